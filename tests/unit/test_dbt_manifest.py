"""What is kept of the folders dagster-dbt leaves in dbt/target."""

from __future__ import annotations

import os
import time

from dagster_project.core.dbt_project import prune_command_folders


def test_old_command_folders_beyond_the_newest_are_pruned_but_never_one_in_use(tmp_path):
    now = time.time()
    ages = {  # folder → minutes since it was last written
        "kaohe_dbt_assets-1a2b3c4-5d6e7f8": 0,
        "kaohe_dbt_assets-2a2b3c4-5d6e7f8": 1,
        "kaohe_dbt_assets-3a2b3c4-5d6e7f8": 10,  # beyond the newest 2, but may be a running command
        "4a2b3c4": 120,
        "kaohe_dbt_assets-5a2b3c4-5d6e7f8": 180,
        "lineage": 600,  # not a command folder: never touched
    }
    for name, minutes in ages.items():
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (now - minutes * 60, now - minutes * 60))
    removed = prune_command_folders(keep=2, target=tmp_path)
    assert sorted(p.name for p in removed) == ["4a2b3c4", "kaohe_dbt_assets-5a2b3c4-5d6e7f8"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "kaohe_dbt_assets-1a2b3c4-5d6e7f8", "kaohe_dbt_assets-2a2b3c4-5d6e7f8",
        "kaohe_dbt_assets-3a2b3c4-5d6e7f8", "lineage",
    ]  # fmt: skip
