"""`list`/`validate` remember each valid spec file (eqcheck/cases/spec_cache.py): an unchanged file is not parsed
again, a changed or invalid one always is, and the cross-file name check always runs."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import CONFIGS, ROOT

SPEC = (CONFIGS / "math" / "atan2.yaml").read_text(encoding="utf-8") if (CONFIGS / "math" / "atan2.yaml").exists() \
    else (CONFIGS / "ops" / "atan2.yaml").read_text(encoding="utf-8")


def _run(tmp_path, *args, **env):
    environment = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "EQCHECK_CACHE_DIR": str(tmp_path / "cache"),
                   "HOME": str(tmp_path), **env}
    probe = ("import sys\nfrom eqcheck.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as exc:\n"
             "    code = exc.code or 0\nprint('YAML=' + str('yaml' in sys.modules))\nsys.exit(code)\n")
    return subprocess.run([sys.executable, "-c", probe, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=environment)


def test_an_unchanged_file_answers_from_the_cache_without_the_parser(tmp_path):
    spec = tmp_path / "specs" / "atan2.yaml"
    spec.parent.mkdir()
    spec.write_text(SPEC, encoding="utf-8")
    cold = _run(tmp_path, "validate", spec.parent)
    assert cold.returncode == 0, cold.stderr
    assert "YAML=True" in cold.stdout
    warm = _run(tmp_path, "validate", spec.parent)
    assert warm.returncode == 0 and "YAML=False" in warm.stdout, warm.stdout + warm.stderr
    assert warm.stdout.split("YAML=")[0] == cold.stdout.split("YAML=")[0]  # the same answer
    listed = _run(tmp_path, "list", spec.parent, "-k", "float32")
    assert listed.returncode == 0 and "YAML=False" in listed.stdout
    assert listed.stdout.splitlines()[:-1] == _run(tmp_path, "list", spec.parent, "--dtype", "float32").stdout.splitlines()[:-1]


def test_a_changed_file_is_validated_again(tmp_path):
    spec = tmp_path / "specs" / "atan2.yaml"
    spec.parent.mkdir()
    spec.write_text(SPEC, encoding="utf-8")
    assert _run(tmp_path, "validate", spec).returncode == 0
    spec.write_text(SPEC + "tolerence: {}\n", encoding="utf-8")  # now invalid: an unknown key
    bad = _run(tmp_path, "validate", spec)
    assert bad.returncode == 2 and "tolerence" in bad.stderr + bad.stdout and "Traceback" not in bad.stderr
    again = _run(tmp_path, "validate", spec)  # an invalid file is never stored: the error comes back
    assert again.returncode == 2 and "tolerence" in again.stderr + again.stdout


def test_duplicate_names_are_found_among_cached_files(tmp_path):
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "a.yaml").write_text(SPEC, encoding="utf-8")
    assert _run(tmp_path, "validate", folder).returncode == 0
    (folder / "b.yaml").write_text(SPEC, encoding="utf-8")  # same name as the cached a.yaml
    clash = _run(tmp_path, "validate", folder)
    assert clash.returncode == 2 and "also used by" in clash.stderr + clash.stdout


def test_the_cache_can_be_turned_off_and_its_key_follows_the_allowlist(tmp_path):
    spec = tmp_path / "atan2.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    assert _run(tmp_path, "validate", spec, EQCHECK_NO_CACHE="1").returncode == 0
    assert not (tmp_path / "cache").exists()
    assert _run(tmp_path, "validate", spec).returncode == 0
    # The operator narrows the allowlist: a cached "valid" must not survive it.
    narrowed = _run(tmp_path, "validate", spec, EQCHECK_ALLOWED_PREFIXES="torch.nn.")
    assert narrowed.returncode == 2, narrowed.stdout
    files = list((tmp_path / "cache").glob("specs-*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())  # one fingerprint stored, with its entry
