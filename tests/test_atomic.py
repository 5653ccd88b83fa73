"""punie.atomic: a write is all-or-nothing and otherwise looks like an ordinary write."""

from __future__ import annotations

import os
import stat

import pytest

from punie import atomic


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_replacing_a_file_keeps_its_mode(tmp_path):
    f = tmp_path / "run.sh"
    f.write_text("echo old\n")
    f.chmod(0o755)
    atomic.write_text(f, "echo new\n")
    assert f.read_text() == "echo new\n"
    assert _mode(f) == 0o755


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["022", "077"])
def test_a_new_file_gets_the_umask_mode(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic.write_text(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "new.txt") == 0o666 & ~umask


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    (tmp_path / "target.txt").write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to("target.txt")
    atomic.write_text(link, "new")
    assert link.is_symlink()
    assert (tmp_path / "target.txt").read_text() == "new"


def test_a_failed_write_leaves_the_file_and_no_temp_behind(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("keep")
    with pytest.raises(RuntimeError), atomic.atomic_path(f) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert f.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
