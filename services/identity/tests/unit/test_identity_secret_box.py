"""Sealing secrets at rest: AES-GCM under the secrets key, bound to what they protect."""

import os
import stat

import pytest

from chorale_identity.adapters.secret_box import (
    SecretBox,
    SecretsUnreadable,
    new_key_text,
    parse_keys,
    read_or_create_key_file,
)

KEY_A, KEY_B = os.urandom(32), os.urandom(32)


def test_a_sealed_secret_opens_only_in_its_own_context_and_holds_nothing_clear():
    box = SecretBox.of_keys(KEY_A)
    sealed = box.seal_text("JBSWY3DPEHPK3PXP", "totp:u-1")
    assert sealed.startswith("sealed:v1:") and "JBSWY3DPEHPK3PXP" not in sealed
    assert box.open_text(sealed, "totp:u-1") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(SecretsUnreadable):
        box.open_text(sealed, "totp:u-2")  # copied onto another account
    assert box.seal_text("x", "c") != box.seal_text("x", "c")  # a fresh nonce each time


def test_a_clear_value_of_an_earlier_version_is_read_as_it_is():
    assert SecretBox.of_keys(KEY_A).open_text("JBSWY3DPEHPK3PXP", "totp:u-1") == (
        "JBSWY3DPEHPK3PXP"
    )


def test_the_wrong_key_is_a_clear_error_naming_the_key_needed():
    sealed = SecretBox.of_keys(KEY_A).seal_text("s", "c")
    with pytest.raises(SecretsUnreadable, match="sealed with key"):
        SecretBox.of_keys(KEY_B).open_text(sealed, "c")


def test_rotation_the_first_key_seals_the_others_still_open():
    old = SecretBox.of_keys(KEY_A).seal_text("s", "c")
    rotated = SecretBox.of_keys(KEY_B, KEY_A)
    assert rotated.open_text(old, "c") == "s"
    assert not rotated.is_current(old)
    assert rotated.is_current(rotated.seal_text("s", "c"))


def test_the_key_file_is_created_once_with_mode_0600(tmp_path):
    path = tmp_path / "var" / "identity" / "secrets.key"
    keys = read_or_create_key_file(path, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_or_create_key_file(path, create=True) == keys  # not replaced on later starts
    with pytest.raises(SecretsUnreadable, match="does not exist"):
        read_or_create_key_file(tmp_path / "absent.key", create=False)


def test_malformed_keys_are_refused():
    with pytest.raises(SecretsUnreadable, match="32 bytes"):
        parse_keys(["not-a-key"], "CHORALE_SECRETS_KEY")
    with pytest.raises(SecretsUnreadable, match="no key"):
        parse_keys(["# only a comment", ""], "CHORALE_SECRETS_KEY")
    assert len(parse_keys([new_key_text(), new_key_text()], "x")) == 2
