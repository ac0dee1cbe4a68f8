"""Users, tokens, sign-in throttling and the audit log on SQLite and PostgreSQL.

What an administrator and a signing-in user notice: who can sign in, which tokens work,
when attempts are refused, and what the audit log says happened.
"""

from __future__ import annotations

import datetime as dt
import functools

import pytest
from click.testing import CliRunner
from werkzeug.security import generate_password_hash

from metabiz.app import prepare_database
from metabiz.cli import main
from metabiz.errors import NotFound, Unauthorized, ValidationError
from metabiz.platform import audit, auth
from metabiz.platform.auth import LoginThrottled
from metabiz.platform.db import make_engine, writer

T0 = dt.datetime(2030, 1, 1, 9, 0, 0)
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def engine(db_url, monkeypatch):
    # Real password hashing costs ~0.3 s a check; only one test below needs it.
    monkeypatch.setattr(auth, "generate_password_hash",
                        functools.partial(generate_password_hash, method="pbkdf2:sha256:1000"))
    monkeypatch.setattr(auth, "_DUMMY_HASH", auth.generate_password_hash("unused"))
    eng = make_engine(db_url)
    prepare_database(eng)
    with writer(eng).begin() as conn:
        auth.create_user(conn, "alice", "alice-pw", roles=["sales_rep"], email="a@x.io")
        auth.create_user(conn, "bob", "bob-pw", roles=["admin"])
    yield eng
    eng.dispose()


def sign_in(engine, name, password, **kw):
    # A plain (non-writer) connection, as the login page uses.
    with engine.connect() as conn:
        return auth.authenticate_password(conn, name, password, **kw)


def use_token(engine, token, **kw):
    with engine.connect() as conn:
        return auth.authenticate_token(conn, token, **kw)


def kinds(engine, **kw):
    with engine.connect() as conn:
        return [e.kind for e in audit.entries(conn, limit=100, **kw)]


# -- users ----------------------------------------------------------------------------


def test_a_deactivated_user_can_neither_sign_in_nor_use_tokens(engine):
    with writer(engine).begin() as conn:
        token = auth.create_token(conn, "alice")
    assert sign_in(engine, "alice", "alice-pw").name == "alice"
    with writer(engine).begin() as conn:
        assert auth.set_active(conn, "alice", False, by="bob") is True
        assert auth.set_active(conn, "alice", False, by="bob") is False  # already
    with pytest.raises(Unauthorized) as refused:
        sign_in(engine, "alice", "alice-pw")
    assert refused.value.message == "wrong user name or password"  # tells nothing more
    with pytest.raises(Unauthorized, match="deactivated"):
        use_token(engine, token)
    with writer(engine).begin() as conn, pytest.raises(ValidationError):
        auth.create_token(conn, "alice")
    with writer(engine).begin() as conn:
        auth.set_active(conn, "alice", True, by="bob")
    assert sign_in(engine, "alice", "alice-pw").name == "alice"
    assert use_token(engine, token).name == "alice"  # unrevoked tokens work again
    with engine.connect() as conn:
        reasons = [e.detail.get("reason") for e in audit.entries(conn, kind="login.failed")]
        by_bob = [e.kind for e in audit.entries(conn, user_name="bob")]
    assert reasons == ["deactivated"]
    assert by_bob == ["user.activated", "user.deactivated"]


def test_users_list_shows_roles_and_state_but_not_the_system_user(engine):
    with writer(engine).begin() as conn:
        auth.create_user(conn, "carol", "carol-pw", roles=["b", "a"], manager="bob",
                         language="zh")
        auth.set_active(conn, "carol", False)
        listed = auth.list_users(conn)
        everyone = auth.list_users(conn, include_system=True)
    assert [u.name for u in listed] == ["alice", "bob", "carol"]
    carol = listed[-1]
    assert (carol.roles, carol.manager, carol.active, carol.language) == (
        ("a", "b"), "bob", False, "zh")
    assert "system" in {u.name for u in everyone}
    assert not hasattr(carol, "password_hash")


def test_the_system_user_can_never_be_given_a_way_in(engine):
    with writer(engine).begin() as conn:
        with pytest.raises(ValidationError):
            auth.set_active(conn, "system", True)
        with pytest.raises(ValidationError):
            auth.set_password(conn, "system", "letmein")
        with pytest.raises(NotFound):
            auth.set_active(conn, "ghost", False)
    with pytest.raises(Unauthorized):
        sign_in(engine, "system", "!")


def test_set_password_replaces_the_old_one(engine):
    with writer(engine).begin() as conn:
        with pytest.raises(ValidationError) as short:
            auth.set_password(conn, "alice", "x")
        assert "password" in short.value.fields
        with pytest.raises(NotFound):
            auth.set_password(conn, "ghost", "long-enough")
        auth.set_password(conn, "alice", "new-secret", by="bob")
    with pytest.raises(Unauthorized):
        sign_in(engine, "alice", "alice-pw")
    assert sign_in(engine, "alice", "new-secret").name == "alice"


def test_passwords_are_stored_with_a_modern_kdf(engine, monkeypatch):
    monkeypatch.undo()  # the real hashing, not the fixture's fast one
    with writer(engine).begin() as conn:
        auth.create_user(conn, "kdf", "kdf-secret")
        stored = conn.exec_driver_sql(
            "SELECT password_hash FROM sys_users WHERE name = 'kdf'").scalar_one()
    assert stored.startswith("scrypt:") and "kdf-secret" not in stored
    assert sign_in(engine, "kdf", "kdf-secret").name == "kdf"


# -- tokens ---------------------------------------------------------------------------


def test_tokens_list_never_shows_the_token_and_records_last_use(engine):
    with writer(engine).begin() as conn:
        first = auth.create_token(conn, "alice", by="cli")
        second = auth.create_token(conn, "bob", expires_at=T0 + dt.timedelta(days=1))
    use_token(engine, first, now=T0, client="10.0.0.1")
    use_token(engine, first, now=T0 + dt.timedelta(seconds=30))  # within the minute
    use_token(engine, first, now=T0 + 2 * MINUTE)
    with engine.connect() as conn:
        listed = auth.list_tokens(conn)
        alices = auth.list_tokens(conn, "alice")
        with pytest.raises(NotFound):
            auth.list_tokens(conn, "ghost")
        used = audit.entries(conn, kind="token.used")
    assert [t.user_name for t in listed] == ["alice", "bob"]
    assert [t.id for t in alices] == [listed[0].id]
    shown = repr(listed)
    assert first not in shown and second not in shown
    assert listed[0].prefix == first[:12] and listed[0].last_used_at == T0 + 2 * MINUTE
    assert listed[1].last_used_at is None and listed[1].expires_at == T0 + dt.timedelta(days=1)
    assert listed[1].status(T0) == "active"
    assert listed[1].status(T0 + dt.timedelta(days=2)) == "expired"
    # at most one entry per token per minute, with the client it came from
    assert [(e.user_name, e.at, e.client) for e in used] == [
        ("alice", T0 + 2 * MINUTE, None), ("alice", T0, "10.0.0.1")]
    assert used[0].detail["prefix"] == first[:12] and first not in str(used[0].detail)


def test_revoked_and_expired_tokens_are_refused_and_audited(engine):
    with writer(engine).begin() as conn:
        token = auth.create_token(conn, "alice")
        other = auth.create_token(conn, "alice")
        expiring = auth.create_token(conn, "alice", expires_at=T0)
        info = auth.revoke_token(conn, token[:12], by="bob")  # by the prefix tokens list shows
        assert info.revoked is False  # as it was before
        assert auth.revoke_token(conn, str(info.id)).revoked is True  # again: no change
    with pytest.raises(Unauthorized):
        use_token(engine, token)
    with pytest.raises(Unauthorized):
        use_token(engine, expiring, now=T0)
    assert use_token(engine, expiring, now=T0 - MINUTE).name == "alice"
    with pytest.raises(Unauthorized):
        use_token(engine, "mbz_not-a-real-token")
    with writer(engine).begin() as conn:
        auth.revoke_token(conn, other)  # the whole token works too
        with pytest.raises(NotFound):
            auth.revoke_token(conn, "999")
        with pytest.raises(ValidationError):
            auth.revoke_token(conn, "nonsense")
    with pytest.raises(Unauthorized):
        use_token(engine, other)
    with engine.connect() as conn:
        rejected = audit.entries(conn, kind="token.rejected")
        revoked = audit.entries(conn, kind="token.revoked")
    assert sorted(e.detail["reason"] for e in rejected) == ["expired", "revoked", "revoked"]
    assert [e.user_name for e in revoked] == [None, "bob"]


def test_a_prefix_must_name_one_token(engine, monkeypatch):
    made = iter(["AAAA1" + "x" * 38, "AAAA2" + "y" * 38])
    monkeypatch.setattr(auth.secrets, "token_urlsafe", lambda n: next(made))
    with writer(engine).begin() as conn:
        auth.create_token(conn, "alice")
        second = auth.create_token(conn, "alice")
        with pytest.raises(ValidationError, match="several tokens"):
            auth.revoke_token(conn, "mbz_AAAA")
        with pytest.raises(ValidationError):
            auth.revoke_token(conn, "mbz_")
        assert auth.revoke_token(conn, "mbz_AAAA2").prefix == second[:12]


# -- sign-in throttling ---------------------------------------------------------------


def fail(engine, name, times, start, client=None, step=dt.timedelta(seconds=10)):
    for i in range(times):
        with pytest.raises(Unauthorized) as refused:
            sign_in(engine, name, "wrong", now=start + i * step, client=client)
        assert not isinstance(refused.value, LoginThrottled)


def test_five_failures_lock_the_name_out_even_for_the_right_password(engine):
    fail(engine, "alice", auth.MAX_FAILURES_PER_USER, T0)  # T0 … T0+40s
    with pytest.raises(LoginThrottled) as locked:
        sign_in(engine, "alice", "alice-pw", now=T0 + MINUTE)
    assert locked.value.status == 401 and locked.value.code == "unauthorized"
    # the first failure leaves the 15-minute window at T0+15min: 14 minutes from now
    assert locked.value.message == "too many failed sign-ins; try again in 14 minutes"
    with pytest.raises(LoginThrottled, match="try again in 1 minute$"):
        sign_in(engine, "alice", "alice-pw", now=T0 + 14 * MINUTE + dt.timedelta(seconds=30))
    assert sign_in(engine, "bob", "bob-pw", now=T0 + MINUTE).name == "bob"  # others unaffected
    assert sign_in(engine, "alice", "alice-pw", now=T0 + 15 * MINUTE).name == "alice"
    assert kinds(engine, user_name="alice", kind="login.") == [
        "login.succeeded", "login.throttled", "login.throttled"] + ["login.failed"] * 5


def test_refused_attempts_do_not_extend_the_lockout(engine):
    fail(engine, "alice", 5, T0)
    for minute in range(1, 15):
        with pytest.raises(LoginThrottled):
            sign_in(engine, "alice", "wrong", now=T0 + minute * MINUTE)
    assert sign_in(engine, "alice", "alice-pw", now=T0 + 16 * MINUTE).name == "alice"


def test_a_success_or_a_new_password_clears_the_count(engine):
    # set_password is stamped with the real clock: this test runs on it, too.
    start = auth.utcnow() - 10 * MINUTE
    fail(engine, "alice", 4, start)
    sign_in(engine, "alice", "alice-pw", now=start + MINUTE)
    fail(engine, "alice", 4, start + 2 * MINUTE)
    assert sign_in(engine, "alice", "alice-pw", now=start + 3 * MINUTE).name == "alice"
    fail(engine, "alice", 5, start + 4 * MINUTE)
    with pytest.raises(LoginThrottled):
        sign_in(engine, "alice", "alice-pw", now=start + 5 * MINUTE)
    with writer(engine).begin() as conn:  # the administrator unlocks by setting a password
        auth.set_password(conn, "alice", "fresh-pw", by="bob")
    assert sign_in(engine, "alice", "fresh-pw").name == "alice"


def test_unknown_names_are_throttled_and_audited_like_real_ones(engine):
    fail(engine, "nobody", 5, T0)
    with pytest.raises(LoginThrottled):
        sign_in(engine, "nobody", "whatever", now=T0 + MINUTE)
    with engine.connect() as conn:
        failed = audit.entries(conn, kind="login.failed", user_name="nobody")
    assert [e.detail["reason"] for e in failed] == ["unknown user"] * 5


def test_one_client_trying_many_names_is_slowed_down(engine, monkeypatch):
    monkeypatch.setattr(auth, "MAX_FAILURES_PER_CLIENT", 7)  # each attempt costs a hash
    for i in range(auth.MAX_FAILURES_PER_CLIENT):
        with pytest.raises(Unauthorized):
            sign_in(engine, f"user{i}", "guess", client="203.0.113.9",
                    now=T0 + i * dt.timedelta(seconds=5))
    with pytest.raises(LoginThrottled):
        sign_in(engine, "alice", "alice-pw", client="203.0.113.9", now=T0 + 2 * MINUTE)
    # the user herself, from her own address, is not locked out by someone else's guessing
    assert sign_in(engine, "alice", "alice-pw", client="198.51.100.7",
                   now=T0 + 2 * MINUTE).name == "alice"
    with engine.connect() as conn:
        throttled = audit.entries(conn, kind="login.throttled")
    assert [(e.user_name, e.client) for e in throttled] == [("alice", "203.0.113.9")]


def test_a_long_user_name_is_recorded_cut_short(engine):
    with pytest.raises(Unauthorized):
        sign_in(engine, "x" * 500, "pw", client="c" * 300)
    with engine.connect() as conn:
        entry = audit.entries(conn, kind="login.failed")[0]
    assert entry.user_name == "x" * 64 and entry.client == "c" * 64


# -- the audit log --------------------------------------------------------------------


def test_failed_attempts_stay_recorded_when_the_callers_transaction_rolls_back(engine):
    with engine.connect() as conn:
        conn.begin()
        with pytest.raises(Unauthorized):
            auth.authenticate_password(conn, "alice", "wrong")
        conn.rollback()
    assert kinds(engine, kind="login.failed") == ["login.failed"]


def test_recording_inside_a_writer_transaction_does_not_deadlock(engine):
    # A writer already holds SQLite's lock: the entry goes into its transaction instead.
    with writer(engine).begin() as conn:
        assert auth.authenticate_password(conn, "alice", "alice-pw").name == "alice"
        audit.record_apart(conn, "test.event", "alice", {"n": 1})
    assert kinds(engine, user_name="alice") == ["test.event", "login.succeeded"]


def test_record_in_the_callers_transaction_and_list_by_family(engine):
    with writer(engine).begin() as conn:
        audit.record(conn, audit.METADATA_APPLIED, "cli", {"version": 3, "summary": "x"})
    with writer(engine).begin() as conn:
        audit.record(conn, audit.METADATA_APPLIED, "cli", {"version": 4})
        conn.rollback()  # an apply that failed leaves no entry
    audit.record_denial(engine, "alice", "PATCH /api/v1/records/deal/7",
                        "you may not set margin", client="10.1.1.1")
    with engine.connect() as conn:
        applied = audit.entries(conn, kind="metadata.applied")
        denied = audit.entries(conn, kind="permission.")
        newest = audit.entries(conn, limit=1)
    assert [e.detail for e in applied] == [{"version": 3, "summary": "x"}]
    assert [(e.user_name, e.client, e.detail["action"]) for e in denied] == [
        ("alice", "10.1.1.1", "PATCH /api/v1/records/deal/7")]
    assert newest[0].kind == "permission.denied"
    assert newest[0].to_json()["at"].endswith("Z")


# -- the command line -----------------------------------------------------------------


@pytest.fixture
def run(db_url, tmp_path, monkeypatch, engine):
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(main, [*args[:2], "--database-url", db_url, *args[2:]],
                                  input=input)

    return invoke


def test_cli_users(run, engine):
    listed = run("users", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == ["NAME", "DISPLAY", "NAME", "ROLES", "MANAGER", "EMAIL",
                                "ACTIVE", "LANG"]
    assert [line.split()[0] for line in lines[1:]] == ["alice", "bob"]
    assert "sales_rep" in lines[1] and "a@x.io" in lines[1]
    assert run("users", "deactivate", "alice").output == "deactivated alice\n"
    assert "already" in run("users", "deactivate", "alice").output
    assert " no " in run("users", "list").output.splitlines()[1]
    with pytest.raises(Unauthorized):
        sign_in(engine, "alice", "alice-pw")
    assert run("users", "activate", "alice").exit_code == 0
    changed = run("users", "set-password", "alice", "--password", "changed-pw")
    assert changed.exit_code == 0 and changed.output == "password of alice set\n"
    assert sign_in(engine, "alice", "changed-pw").name == "alice"
    prompted = run("users", "set-password", "bob", input="typed-pw\ntyped-pw\n")
    assert prompted.exit_code == 0 and "typed-pw" not in prompted.output
    assert sign_in(engine, "bob", "typed-pw").name == "bob"
    for bad in (("users", "deactivate", "ghost"), ("users", "set-password", "bob",
                                                    "--password", "x"),
                ("users", "activate", "system")):
        result = run(*bad)
        assert result.exit_code == 1 and result.output.startswith("error: "), bad
        assert "Traceback" not in result.output


def test_cli_tokens(run, engine):
    created = run("tokens", "create", "alice", "--expires-in-days", "30")
    assert created.exit_code == 0, created.output
    token = created.output.strip()
    plain = run("tokens", "create", "bob").output.strip()
    assert use_token(engine, token).name == "alice"
    listed = run("tokens", "list")
    assert listed.exit_code == 0
    assert token not in listed.output and plain not in listed.output
    rows = listed.output.splitlines()
    assert rows[0].split() == ["ID", "PREFIX", "USER", "CREATED", "EXPIRES", "LAST", "USED",
                               "STATUS"]
    alice_row = rows[1].split()
    assert alice_row[1] == token[:12] + "…" and alice_row[2] == "alice"
    assert alice_row[-1] == "active" and "-" not in alice_row[5:7]  # expiry and last use set
    only_bob = run("tokens", "list", "bob").output.splitlines()
    assert len(only_bob) == 2 and only_bob[1].split()[2] == "bob"
    revoked = run("tokens", "revoke", token[:12] + "…")  # pasted as listed
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert run("tokens", "list").output.splitlines()[1].split()[-1] == "revoked"
    with pytest.raises(Unauthorized):
        use_token(engine, token)
    assert run("tokens", "create", "alice", "--expires-in-days", "0").exit_code == 2
    assert run("tokens", "revoke", "12345").exit_code == 1
    assert run("tokens", "list", "ghost").exit_code == 1


def test_cli_audit_list(run, engine):
    with pytest.raises(Unauthorized):
        sign_in(engine, "alice", "nope", client="192.0.2.1")
    sign_in(engine, "alice", "alice-pw")
    listed = run("audit", "list", "--limit", "2")
    assert listed.exit_code == 0, listed.output
    rows = listed.output.splitlines()
    assert rows[0].split() == ["WHEN", "KIND", "USER", "CLIENT", "DETAIL"]
    assert [r.split()[2] for r in rows[1:]] == ["login.succeeded", "login.failed"]
    assert "192.0.2.1" in rows[2] and '"reason": "wrong password"' in rows[2]
    import json

    as_json = run("audit", "list", "--kind", "login.failed", "--json")
    entries = [json.loads(line) for line in as_json.output.splitlines()]
    assert [(e["kind"], e["user"], e["client"]) for e in entries] == [
        ("login.failed", "alice", "192.0.2.1")]
    by_user = run("audit", "list", "--user", "bob").output.splitlines()
    assert len(by_user) == 1  # the header only: bob did nothing


def test_cli_audit_prune_keeps_recent_entries(run, engine):
    with writer(engine).begin() as conn:
        audit.record(conn, "old.event", "bob", at=auth.utcnow() - dt.timedelta(days=40))
        audit.record(conn, "new.event", "bob")
    pruned = run("audit", "prune", "--older-than-days", "30")
    assert pruned.exit_code == 0 and pruned.output == (
        "deleted 1 audit entries older than 30 days\n")
    assert kinds(engine, user_name="bob") == ["new.event"]
    with writer(engine).begin() as conn:  # never the last day: throttling counts on it
        assert audit.prune(conn, dt.timedelta(0)) == 0
