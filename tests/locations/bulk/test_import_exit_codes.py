"""import_locations exits 0 only when every row is valid, 1 when rows were refused (dry
run or not), 2 on a usage or file error, so a pipeline can tell the outcomes apart."""

import subprocess

import pytest
from django.core.management import CommandError, call_command

from locations.management.commands import import_locations
from locations.models import Location
from tests.support import BASE_DIR, child_env

HEADER = "external_id,name,category,longitude,latitude\n"
GOOD = HEADER + "a,Fine place,park,1,1\n"
ONE_BAD = GOOD + "b,Bad place,park,1,x\n"


def _file(tmp_path, text, name="p.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _run(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BASE_DIR / ".venv/bin/python"), "manage.py", "import_locations", *args],
        cwd=BASE_DIR,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_dry_run_with_a_bad_row_exits_1_from_the_shell(db, tmp_path):
    result = _run(_file(tmp_path, ONE_BAD), "--dry-run", "--no-progress")

    assert result.returncode == 1, result.stderr
    assert "bad row: line 3: latitude" in result.stdout
    assert "1 bad row(s) refused" in result.stderr


def test_a_dry_run_of_a_good_file_exits_0_from_the_shell(db, tmp_path):
    result = _run(_file(tmp_path, GOOD), "--dry-run", "--no-progress")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["/nonexistent/places.csv"],
        ["--batch-size", "0", "{good}"],
        ["--status", "rejected", "{good}"],
        ["{broken}"],
    ],
)
def test_usage_and_file_errors_exit_2_from_the_shell(db, tmp_path, args):
    good = _file(tmp_path, GOOD)
    broken = _file(tmp_path, "no,columns,here\n1,2,3\n", name="broken.csv")

    result = _run(*(a.format(good=good, broken=broken) for a in args), "--no-progress")

    assert result.returncode == 2, (result.stdout, result.stderr)


def test_a_real_run_imports_the_valid_rows_and_still_exits_1(db, tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command("import_locations", _file(tmp_path, ONE_BAD), "--no-progress")

    assert refused.value.returncode == import_locations.EXIT_ROWS_REFUSED == 1
    assert list(Location.objects.values_list("external_id", flat=True)) == ["a"]


def test_an_abort_exits_1_and_imports_nothing(db, tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command(
            "import_locations",
            _file(tmp_path, ONE_BAD),
            "--on-error",
            "abort",
            "--no-progress",
        )

    assert refused.value.returncode == 1
    assert not Location.objects.exists()


def test_an_unreadable_file_exits_2(db, tmp_path):
    path = _file(tmp_path, "name\nx\n")

    with pytest.raises(CommandError) as refused:
        call_command("import_locations", path, "--no-progress")

    assert refused.value.returncode == import_locations.EXIT_USAGE_OR_FILE_ERROR == 2


def test_a_good_file_imports_without_an_error(db, tmp_path):
    call_command("import_locations", _file(tmp_path, GOOD), "--no-progress")

    assert Location.objects.count() == 1


def test_the_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        call_command("import_locations", "--help")

    assert "0 all rows valid, 1 some rows refused, 2 usage/file error" in capsys.readouterr().out
