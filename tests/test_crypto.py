"""Field encryption: round trip, integrity, wrong keys, rotation, blind index."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import Text, select, type_coerce

from tests.conftest import make_app
from vat.auth.models import Role, User
from vat.cli import rotate_all
from vat.crypto import DecryptionError, KeyRing, blind_index, generate_key_entry, key_id_of
from vat.db import db

CANARY = "Amélie نور שָׁלוֹם 🌍"


def test_round_trip_with_associated_data():
    ring = KeyRing.parse(generate_key_entry())
    stored = ring.encrypt(CANARY, "vat_victim.name")
    assert CANARY not in stored
    assert ring.decrypt(stored, "vat_victim.name") == CANARY
    assert stored != ring.encrypt(CANARY, "vat_victim.name")  # a fresh nonce each time


def test_a_value_moved_to_another_column_does_not_decrypt():
    ring = KeyRing.parse(generate_key_entry())
    stored = ring.encrypt(CANARY, "vat_victim.name")
    with pytest.raises(DecryptionError):
        ring.decrypt(stored, "vat_victim.notes")


def test_wrong_key_and_tampering_are_refused():
    ring, other = KeyRing.parse(generate_key_entry()), KeyRing.parse(generate_key_entry())
    stored = ring.encrypt(CANARY, "c")
    with pytest.raises(DecryptionError):
        other.decrypt(stored, "c")
    forged_ring = KeyRing(keys={ring.active_id: other.keys[other.active_id]}, active_id=ring.active_id)
    with pytest.raises(DecryptionError):
        forged_ring.decrypt(stored, "c")
    version, key_id, payload = stored.split(":", 2)
    raw = bytearray(base64.b64decode(payload))
    raw[-1] ^= 1
    with pytest.raises(DecryptionError):
        ring.decrypt(f"{version}:{key_id}:{base64.b64encode(bytes(raw)).decode()}", "c")


def test_malformed_key_ring_is_refused():
    with pytest.raises(ValueError):
        KeyRing.parse("k1:" + base64.urlsafe_b64encode(b"short").decode())
    with pytest.raises(ValueError):
        KeyRing.parse("")


def test_secret_is_not_stored_in_clear_and_rotation_keeps_it_readable(database_url, make_user):
    user = make_user(Role.ADVOCATE, "CAF")
    old_app = make_app(database_url)
    with old_app.app_context():
        secret = db.session.get(User, user.id).totp_secret
        raw = db.session.scalar(select(type_coerce(User.totp_secret, Text)).where(User.id == user.id))
        assert secret not in raw and key_id_of(raw) == "test1"

    new_entry = generate_key_entry()
    rotated_app = make_app(database_url, VAT_DATA_KEY=f"{new_entry},{old_app.config['VAT_DATA_KEY']}")
    with rotated_app.app_context():
        assert rotate_all() == 1
        db.session.commit()
    only_new_app = make_app(database_url, VAT_DATA_KEY=new_entry)
    with only_new_app.app_context():
        assert db.session.get(User, user.id).totp_secret == secret
    with old_app.app_context(), pytest.raises(DecryptionError):  # the old key alone no longer reads it
        db.session.get(User, user.id).totp_secret  # noqa: B018 - the read is the test


def test_keys_rotate_command(runner, make_user):
    make_user(Role.ADVOCATE, "CAF")
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0 and "re-encrypted 0 values" in result.output


def test_blind_index_is_exact_and_normalised(app):
    with app.app_context():
        nfc = "Zoë Ndayisaba"
        nfd = "Zoe\u0308  ndayisaba"
        assert blind_index(nfc, "victim.name") == blind_index(nfd, "victim.name")
        assert blind_index(nfc, "victim.name") != blind_index("Zoë Ndayisab", "victim.name")
        assert blind_index(nfc, "victim.name") != blind_index(nfc, "child.name")
    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], VAT_MAC_KEY="another-mac-key-0123456789-abcdef")
    with other.app_context():
        elsewhere = blind_index(nfc, "victim.name")
    with app.app_context():
        assert blind_index(nfc, "victim.name") != elsewhere
