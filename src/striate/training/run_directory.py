"""The folder of one training run (`striate train --out DIR`): its lock, its leftovers and its record.

- `lock(folder)`: one run at a time. `.striate.lock` in the folder is held with `fcntl.flock` for the whole
  run and holds the runner's pid; a second run is refused naming that pid. The kernel drops the lock when
  its process dies, however it dies, so the lock of a killed run is simply taken over.
- `remove_stale_temporary_files(folder)`: `striate.core.files.atomic_write` names its temporary files
  `.striate-<pid>-<hex>.tmp`; a write killed half-way leaves one. Those of processes no longer alive are
  removed.
- run.json, the run's record (`read_record`, `check_settings`, `RunRecord`): the settings it was started
  with and every epoch's logs, rewritten (atomically) after every epoch and kept whole across `--resume`.
"""

import fcntl
import json
import os
import re
from typing import Any, TextIO

from striate.core.files import atomic_write
from striate.training.callbacks import Callback

LOCK_NAME = ".striate.lock"
RECORD_NAME = "run.json"
_TEMPORARY = re.compile(r"\.striate-(\d+)-[0-9a-f]+\.tmp")


class RunLocked(Exception):
    """Another live process holds the folder's lock."""


def lock(folder: str) -> TextIO:
    """Hold `folder`'s run lock until the returned file is closed (or the process ends); write our pid in it.

    Raises RunLocked naming the holder's pid if another process holds it.
    """
    path = os.path.join(folder, LOCK_NAME)
    file = open(path, "a+")  # noqa: SIM115 (held open for the whole run: the open file is the lock)
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.seek(0)
        holder = file.read().strip() or "unknown"
        file.close()
        raise RunLocked(f"{folder} is in use by another striate train (pid {holder}); wait for it to finish or "
                        f"choose another --out") from None
    file.seek(0)
    file.truncate()
    file.write(f"{os.getpid()}\n")
    file.flush()
    return file


def remove_stale_temporary_files(folder: str) -> list[str]:
    """Remove `.striate-<pid>-*.tmp` files of `folder` whose process is gone; return their names."""
    removed = []
    for name in sorted(os.listdir(folder)):
        match = _TEMPORARY.fullmatch(name)
        if match and not _alive(int(match.group(1))):
            os.unlink(os.path.join(folder, name))
            removed.append(name)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def read_record(folder: str) -> dict[str, Any] | None:
    """The run.json of `folder` as a dict, or None if there is none. ValueError if it is not a JSON object."""
    path = os.path.join(folder, RECORD_NAME)
    if not os.path.exists(path):
        return None
    with open(path) as file:
        try:
            record = json.load(file)
        except ValueError as error:
            raise ValueError(f"{path} is not JSON ({error}); remove it or choose another --out") from None
    if not isinstance(record, dict):
        raise ValueError(f"{path} must hold a JSON object; received {type(record).__name__}")
    return record


def check_settings(record: dict[str, Any], settings: dict[str, Any], path: str) -> None:
    """Raise ValueError naming every setting of `settings` whose value differs from the saved `record`'s.

    A setting the record does not hold (written by an older striate) is not compared.
    """
    different = [f"{key} {record[key]!r} there, {value!r} now" for key, value in settings.items()
                 if key in record and _as_json(record[key]) != _as_json(value)]
    if different:
        raise ValueError(f"--resume: {path} was trained with other settings: {'; '.join(different)}. Resume with "
                         f"the same settings, or train into another --out")


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))  # tuples as lists, as run.json holds them


def merged_history(record: dict[str, Any] | None, history: dict[str, list[Any]],
                   epochs_before: int) -> dict[str, list[Any]]:
    """The record's history of its first `epochs_before` epochs, followed by `history` (this session's)."""
    earlier = {} if record is None else record.get("history", {})
    merged = {key: list(values[:epochs_before]) for key, values in earlier.items()}
    for key, values in history.items():
        merged.setdefault(key, [None] * epochs_before)
        merged[key] = merged[key][:epochs_before] + list(values)
    return merged


class RunRecord(Callback):
    """Write `folder`/run.json after every epoch: `fields` (the settings, ...), "epochs_trained" and
    "history", the `previous` record's first `epochs_before` epochs followed by this session's."""

    def __init__(self, folder, fields, previous=None, epochs_before=0):
        super().__init__()
        self.path, self.fields = os.path.join(folder, RECORD_NAME), dict(fields)
        self.previous, self.epochs_before, self.history = previous, epochs_before, {}

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.write(epochs_trained=epoch + 1)

    def write(self, **fields):
        """Rewrite run.json with the fields given now added (they stay for later writes)."""
        self.fields.update(fields)
        record = {**self.fields, "history": merged_history(self.previous, self.history, self.epochs_before)}
        with atomic_write(self.path, "w") as file:
            json.dump(record, file, indent=2)
