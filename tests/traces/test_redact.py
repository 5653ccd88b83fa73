"""Redaction: every secret format the traces promise to remove, and code left readable."""

from __future__ import annotations

import pytest

from punie.traces.redact import (
    ENV_MARKER,
    command_reads_env_file,
    is_env_file,
    redact_embedded_env,
    redact_env_hits,
    redact_text,
    redact_value,
    secret_name,
)

GHP = "ghp_" + "A1b2C3d4E5" * 4


@pytest.mark.parametrize(
    "text, secret",
    [
        ("API_KEY=abc123xyz", "abc123xyz"),
        ("export GITHUB_TOKEN=plainvalue99", "plainvalue99"),
        ("password: hunter2", "hunter2"),
        ('"client_secret": "shh-its-secret"', "shh-its-secret"),
        ("db_password = 'pa55word'", "pa55word"),
        ("apiKey: 'k-123456'", "k-123456"),
        ("STRIPE_KEY=plainkey", "plainkey"),
        ("mytool --password hunter2", "hunter2"),
        ("mytool --api-key=k3y", "k3y"),
    ],
)
def test_assignments_of_secret_names_lose_their_value(text, secret):
    out, n = redact_text(text)
    assert secret not in out and n == 1
    assert "[REDACTED:secret]" in out


@pytest.mark.parametrize(
    "token, kind",
    [
        (GHP, "github_token"),
        ("gho_" + "x" * 36, "github_token"),
        ("github_pat_" + "11ABCDEFG0" * 3, "github_token"),
        ("sk-" + "a" * 40, "api_key"),
        ("sk-proj-" + "Zz09" * 10, "api_key"),
        ("sk-ant-api03-" + "q" * 30, "api_key"),
        ("AKIAIOSFODNN7EXAMPLE", "aws_key"),
        ("xoxb-1234567890-abcdefghij", "slack_token"),
        ("AIza" + "b" * 35, "google_key"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl", "jwt"),
        ("hf_" + "abcdefghij" * 3 + "xyz", "hf_token"),
        ("glpat-" + "abcdefghij" * 2, "gitlab_token"),
    ],
)
def test_known_token_formats_are_replaced_wherever_they_occur(token, kind):
    out, n = redact_text(f"here: {token} (done)")
    assert out == f"here: [REDACTED:{kind}] (done)" and n == 1


def test_a_bearer_credential_is_replaced_and_the_scheme_kept():
    out, _ = redact_text("Authorization: Bearer abcdef1234567890abcdef")
    assert out == "Authorization: Bearer [REDACTED:credential]"


def test_a_password_in_a_url_is_replaced():
    out, _ = redact_text("postgres://app:s3cret@db:5432/main")
    assert out == "postgres://app:[REDACTED:password]@db:5432/main"


def test_a_pem_private_key_block_is_replaced_whole_and_the_text_after_kept():
    pem = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nq2w3e4r5\n-----END RSA PRIVATE KEY-----"
    )
    out, n = redact_text(f"key:\n{pem}\nafter")
    assert out == "key:\n[REDACTED:private_key]\nafter" and n == 1


def test_a_private_key_block_cut_off_by_clipping_is_replaced_to_the_end():
    out, _ = redact_text("x\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n[clipped]")
    assert out == "x\n[REDACTED:private_key]"


@pytest.mark.parametrize(
    "code",
    [
        "token = get_token()",
        'key = os.environ["KEY"]',
        "max_tokens = 48",
        'author = "Jane"',
        'sort_key = "name"',
        "secret: true",
        "DB_PASSWORD=$DB_PASS",
        "pass_rate = 0.5",
        "a basic understanding of tokens",
        '{"path": "src/a.py", "content": "x = 1"}',
    ],
)
def test_code_and_prose_that_hold_no_secret_are_left_alone(code):
    assert redact_text(code) == (code, 0)


@pytest.mark.parametrize("name", ["GITHUB_TOKEN", "apiKey", "db-password", "AWS_SECRET_ACCESS_KEY"])
def test_secret_names_are_recognised_by_their_parts(name):
    assert secret_name(name)


@pytest.mark.parametrize("name", ["author", "max_tokens", "sort_key", "keyboard", "path"])
def test_names_that_only_contain_a_secret_word_are_not_secret(name):
    assert not secret_name(name)


def test_redact_value_reaches_every_string_in_nested_json_and_keeps_keys():
    value = {"password": ["a", {"GITHUB_TOKEN": f"t {GHP}"}], "n": 3}
    counted = []
    out = redact_value(value, counted.append)
    assert out == {"password": ["a", {"GITHUB_TOKEN": "t [REDACTED:github_token]"}], "n": 3}
    assert counted == [1]


@pytest.mark.parametrize("path", [".env", ".env.local", "sub/.env.production", ".envrc"])
def test_env_file_names(path):
    assert is_env_file(path)


@pytest.mark.parametrize("path", ["env.py", "venv/x", "a/.venv/bin/python", "", None])
def test_names_that_are_not_env_files(path):
    assert not is_env_file(path)


@pytest.mark.parametrize("cmd", ["cat .env", "grep X ./.env.local | head", "source .env && run"])
def test_commands_that_name_an_env_file(cmd):
    assert command_reads_env_file(cmd)


@pytest.mark.parametrize("cmd", ["source .venv/bin/activate", "python env.py", "ls"])
def test_commands_that_name_no_env_file(cmd):
    assert not command_reads_env_file(cmd)


def test_search_hits_in_env_files_lose_their_text():
    out, n = redact_env_hits("a.py:1: x = 1\n.env:2: HOST=db.internal\nsub/.env.prod:3: A=b")
    assert out == f"a.py:1: x = 1\n.env:2: {ENV_MARKER}\nsub/.env.prod:3: {ENV_MARKER}"
    assert n == 2


def test_an_env_file_embedded_in_a_prompt_is_replaced_and_others_kept():
    prompt = "see <file uri='file:///w/.env'>\nHOST=db\n</file> and <file uri='file:///w/a.py'>\nx\n</file>"
    out, n = redact_embedded_env(prompt)
    assert out == (
        f"see <file uri='file:///w/.env'>\n{ENV_MARKER}\n</file> and "
        "<file uri='file:///w/a.py'>\nx\n</file>"
    )
    assert n == 1
