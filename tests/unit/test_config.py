"""Configuration: every variable is documented with its default."""

import os

from shared import config
from shared.persistence import DatabaseURL
from shared.relay_lock import FileLock


def test_the_readme_lists_every_setting_with_its_default():
    readme = (config.REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for line in config.markdown_table().splitlines()[2:]:
        assert line in readme


def test_the_readme_starts_with_the_two_commands():
    """What it is (a title and one sentence), then the two commands."""
    first_lines = (config.REPO_ROOT / "README.md").read_text().splitlines()[:8]
    assert any("make run" in line for line in first_lines)
    assert any("make test" in line for line in first_lines)


def test_database_defaults_to_a_sqlite_file_per_service(monkeypatch, tmp_path):
    monkeypatch.delenv("QI_DATABASE_URL", raising=False)
    monkeypatch.delenv("QI_INTAKE_DATABASE_URL", raising=False)
    monkeypatch.setenv("QI_VAR_DIR", str(tmp_path))
    assert config.database_url("intake") == f"sqlite:///{tmp_path / 'intake.sqlite'}"


def test_a_service_url_overrides_the_shared_one(monkeypatch):
    monkeypatch.setenv("QI_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("QI_REFERRAL_DATABASE_URL", "sqlite:////tmp/r.sqlite")
    assert config.database_url("intake") == "postgresql://u@h/db"
    assert config.database_url("referral") == "sqlite:////tmp/r.sqlite"


def test_database_urls_are_read_as_sqlalchemy_writes_them():
    assert (
        DatabaseURL.parse("sqlite:////tmp/a.sqlite", "intake").path == "/tmp/a.sqlite"
    )
    assert DatabaseURL.parse("sqlite:///var/a.sqlite", "intake").path == "var/a.sqlite"
    pg = DatabaseURL.parse("postgresql://qi:s%40cret@db:5433/qi", "referral")
    assert (pg.host, pg.port, pg.user, pg.password, pg.dbname, pg.schema) == (
        "db",
        5433,
        "qi",
        "s@cret",
        "qi",
        "referral",
    )
    assert DatabaseURL.parse("postgresql://u@h/d?schema=x", "intake").schema == "x"


def test_make_run_encrypts_a_new_installation_with_a_kept_key(monkeypatch, tmp_path):
    from shared.persistence import installation_cipher_key

    for name in ("QI_CIPHER_KEY", "QI_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QI_VAR_DIR", str(tmp_path / "var"))
    key = installation_cipher_key(["intake", "gateway"])
    assert len(key) >= 40  # base64 of 32 random bytes
    kept = tmp_path / "var" / "cipher.key"
    assert kept.stat().st_mode & 0o777 == 0o600
    assert installation_cipher_key(["intake"]) == key  # the same key every start
    monkeypatch.setenv("QI_CIPHER_KEY", "configured")
    assert installation_cipher_key(["intake"]) == "configured"


def test_stores_made_without_a_key_are_not_given_one(monkeypatch, tmp_path, caplog):
    from shared.persistence import installation_cipher_key

    monkeypatch.delenv("QI_CIPHER_KEY", raising=False)
    monkeypatch.delenv("QI_DATABASE_URL", raising=False)
    monkeypatch.setenv("QI_VAR_DIR", str(tmp_path))
    (tmp_path / "intake.sqlite").write_bytes(b"")
    assert installation_cipher_key(["intake"]) == ""
    assert not (tmp_path / "cipher.key").exists()
    assert "intake.sqlite" in caplog.text
    (tmp_path / "intake.sqlite").unlink()
    # a database of its own, shared or per service: its key is deployed with it
    monkeypatch.setenv("QI_INTAKE_DATABASE_URL", "postgresql://u@h/db?schema=a")
    assert installation_cipher_key(["intake", "gateway"]) == ""
    monkeypatch.delenv("QI_INTAKE_DATABASE_URL")
    monkeypatch.setenv("QI_DATABASE_URL", "postgresql://u@h/db")
    assert installation_cipher_key(["intake"]) == ""
    assert not (tmp_path / "cipher.key").exists()


def test_a_private_file_is_never_readable_by_others(tmp_path, monkeypatch):
    """The broker definitions (every service's password) and the relay's lock
    file: 0600 from the moment they exist, also over a file made 0644."""
    monkeypatch.setenv("QI_VAR_DIR", str(tmp_path))
    previous = os.umask(0o022)  # the usual one, which makes files 0644
    try:
        made_under_a_usual_umask(tmp_path)
    finally:
        os.umask(previous)


def made_under_a_usual_umask(tmp_path):
    kept = tmp_path / "broker-definitions.json"
    kept.write_text("old", encoding="utf-8")
    kept.chmod(0o644)

    config.write_private(kept, '{"users": []}')

    assert kept.read_text(encoding="utf-8") == '{"users": []}'
    assert kept.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["broker-definitions.json"]
    lock = FileLock(str(tmp_path / "intake.sqlite.relay.lock"))
    assert lock.acquire()
    try:
        assert (tmp_path / "intake.sqlite.relay.lock").stat().st_mode & 0o777 == 0o600
    finally:
        lock.release()
