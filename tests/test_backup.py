"""majlis backup / majlis restore: a round trip keeps every row; a bad file changes nothing."""

from sqlalchemy import func, select

from majlis.auth.models import User
from majlis.db import unit_of_work
from majlis.registration.models import Registration
from tests import factories


def count(db, model):
    db.rollback()
    return db.scalar(select(func.count()).select_from(model))


def test_backup_and_restore_round_trip(runner, db, tmp_path):
    with unit_of_work(db):
        majlis_session = factories.majlis_session(db)
        people = [factories.user(db) for _ in range(3)]
    target = tmp_path / "backup.bin"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0
    with unit_of_work(db):  # changes after the backup...
        factories.user(db)
        db.delete(db.get(User, people[0].id))
    assert count(db, User) == 3
    db.close()
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert count(db, User) == 3  # ... are gone: exactly the backed-up rows
    assert {u.email for u in db.scalars(select(User))} == {p.email for p in people}
    assert count(db, Registration) == 0 and majlis_session.id


def test_restoring_a_file_that_is_not_a_backup_changes_nothing(runner, db, tmp_path):
    with unit_of_work(db):
        factories.user(db)
    bogus = tmp_path / "bogus.bin"
    bogus.write_bytes(b"not a backup at all" * 100)
    result = runner.invoke(args=["restore", str(bogus), "--yes"])
    assert result.exit_code != 0
    assert count(db, User) == 1


def test_restore_asks_before_replacing(runner, db, tmp_path):
    target = tmp_path / "backup.bin"
    runner.invoke(args=["backup", str(target)])
    result = runner.invoke(args=["restore", str(target)], input="n\n")
    assert result.exit_code != 0 and "Aborted" in result.output


def test_backup_to_an_unwritable_place_fails_clearly(runner, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = runner.invoke(args=["backup", str(blocker / "sub" / "x.bin")])
    assert result.exit_code != 0 and "cannot write" in result.output
