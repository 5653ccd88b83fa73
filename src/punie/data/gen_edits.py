"""The settings-file edit behind `edit_file` task plans and edit-recovery traces.

One drawn edit (`draw_edit`) gives the workspace, the request, the checks and each
way of doing it: read then edit_file, read then write_file (the whole file, still a
fine way to edit), or edit_file straight away with the line guessed wrong, then again
with the exact text the miss named. That last one is the retry small models need to
learn: without it they resend the same wrong old_text. Pure, like `gen_plans`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from punie.data.gen_task_prompts import Prompts
from punie.data.gen_workspaces import WsVocab

Steps = tuple[tuple[str, dict[str, Any]], ...]


@dataclass(frozen=True)
class SettingsEdit:
    path: str
    key: str
    old: str
    new: str
    other: str  # the file's second line, which must survive the edit
    prompt: str

    @property
    def line(self) -> str:
        return f"{self.key} = {self.old}"

    @property
    def edited(self) -> str:
        return f"{self.key} = {self.new}"

    @property
    def before(self) -> str:
        return f"{self.line}\n{self.other}\n"

    @property
    def checks(self) -> dict[str, Any]:
        # On the file's contents only: edit_file and write_file are both right.
        return {"files_contain": {self.path: [self.edited, self.other]}}

    def answer(self, results: list[str]) -> str:
        return f"Done: `{self.edited}`."

    def read_edit(self) -> Steps:
        args = {"path": self.path, "old_text": self.line, "new_text": self.edited}
        return (("read_file", {"path": self.path}), ("edit_file", args))

    def read_write(self) -> Steps:
        after = self.before.replace(self.line, self.edited)
        return (
            ("read_file", {"path": self.path}),
            ("write_file", {"path": self.path, "content": after}),
        )

    def miss_retry(self, rng: random.Random) -> Steps:
        k, v = self.key, self.old
        guess = rng.choice((f"{k}={v}", f"{k}: {v}", f'{k} = "{v}"'))
        wrong = {"path": self.path, "old_text": guess, "new_text": self.edited}
        return (("edit_file", wrong), self.read_edit()[1])


def draw_edit(rng: random.Random, ws: WsVocab, pr: Prompts) -> SettingsEdit:
    (key, old, new), (other, oval, _) = rng.sample(ws.settings, 2)
    path = f"{rng.choice(ws.dirs)}/{rng.choice(ws.settings_files)}"
    prompt = rng.choice(pr.edit).format(path=path, key=key, old=old, new=new)
    return SettingsEdit(path, key, old, new, f"{other} = {oval}", prompt)
