"""Pure tests of the checks for recommendations CIS v2.0.0 calls manual but the IAM APIs decide:
1.6 (the root user's MFA is hardware), 1.7 (the root user not used recently) and 1.11 (no access
key made at a console user's setup). The data is shaped as AWS answers: ListVirtualMFADevices
names the root user by the account ARN, the credential report writes ``N/A`` for a key never
used and ``no_information`` for a password never used."""

from __future__ import annotations

import pytest

from findings.checks.base import REGISTRY
from findings.checks.iam import ROOT_RECENT_USE_DAYS
from tests.checks.test_iam import (
    ACCOUNT_ARN,
    NOW,
    ago,
    data,
    only,
    root_row,
    row,
    user_arn,
    verdicts,
)

ROOT_SERIAL = "arn:aws:iam::123456789012:mfa/root-account-mfa-device"


def test_they_are_registered_under_the_manual_controls_they_evidence() -> None:
    assert {
        check_id: (REGISTRY[check_id].controls, REGISTRY[check_id].resource_type)
        for check_id in (
            "iam_root_hardware_mfa_enabled",
            "iam_root_not_used_recently",
            "iam_user_no_access_key_at_setup",
        )
    } == {
        "iam_root_hardware_mfa_enabled": (("1.6",), "AWS::::Account"),
        "iam_root_not_used_recently": (("1.7",), "AWS::::Account"),
        "iam_user_no_access_key_at_setup": (("1.11",), "AWS::IAM::User"),
    }


# --------------------------------------------------------------------------- 1.6


def device(serial: str, user: str, enabled_days_ago: int = 200) -> dict[str, str]:
    """An assigned virtual MFA device as the iam collector keeps it."""
    return {"SerialNumber": serial, "UserArn": user, "EnableDate": ago(enabled_days_ago)}


def test_root_with_a_virtual_mfa_device_fails() -> None:
    # What AWS lists for a root user that scanned a QR code with an authenticator app.
    result = only(
        "iam_root_hardware_mfa_enabled",
        data(virtual_mfa_devices=[device(ROOT_SERIAL, ACCOUNT_ARN)]),
    )
    assert (result.resource_arn, result.status) == (ACCOUNT_ARN, "fail")
    assert result.details["AccountMFAEnabled"] == 1
    assert [d["SerialNumber"] for d in result.details["root_virtual_mfa_devices"]] == [ROOT_SERIAL]
    assert ROOT_SERIAL in result.summary


def test_a_named_virtual_device_of_the_root_user_is_found_by_its_user_arn() -> None:
    # Since devices can be named, a root device's serial is not always root-account-mfa-device.
    named = device("arn:aws:iam::123456789012:mfa/ops-phone", ACCOUNT_ARN)
    assert verdicts("iam_root_hardware_mfa_enabled", data(virtual_mfa_devices=[named])) == {
        ACCOUNT_ARN: "fail"
    }


def test_root_with_hardware_mfa_passes_whatever_users_have() -> None:
    # MFA on, and the only virtual devices belong to IAM users: the root's is hardware.
    alice = device("arn:aws:iam::123456789012:mfa/alice", user_arn("alice"))
    result = only("iam_root_hardware_mfa_enabled", data(virtual_mfa_devices=[alice]))
    assert result.status == "pass"
    assert result.details == {"AccountMFAEnabled": 1, "root_virtual_mfa_devices": []}


def test_root_without_mfa_fails_even_with_no_virtual_device() -> None:
    result = only(
        "iam_root_hardware_mfa_enabled",
        data(account_summary={"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0}),
    )
    assert result.status == "fail"
    assert "no MFA at all" in result.summary


def test_root_mfa_kind_is_not_guessed_without_the_device_list() -> None:
    payload = data()
    del payload["virtual_mfa_devices"]
    with pytest.raises(KeyError):
        only("iam_root_hardware_mfa_enabled", payload)


def test_another_accounts_root_device_is_not_this_roots() -> None:
    other = device(
        "arn:aws:iam::210987654321:mfa/root-account-mfa-device", "arn:aws:iam::210987654321:root"
    )
    assert verdicts("iam_root_hardware_mfa_enabled", data(virtual_mfa_devices=[other])) == {
        ACCOUNT_ARN: "pass"
    }


# --------------------------------------------------------------------------- 1.7


@pytest.mark.parametrize(
    ("values", "status"),
    [
        ({"password_last_used": ago(3)}, "fail"),
        ({"password_last_used": ago(100)}, "pass"),
        ({"password_last_used": "no_information"}, "pass"),  # never used
        ({"password_last_used": "N/A"}, "pass"),
        # A key counts as use too, even one deactivated since.
        ({"access_key_2_last_used_date": ago(3), "access_key_2_active": "false"}, "fail"),
        ({"access_key_1_last_used_date": ago(100), "access_key_1_active": "true"}, "pass"),
        ({"password_last_used": ago(ROOT_RECENT_USE_DAYS)}, "fail"),  # within the window
        ({"password_last_used": ago(ROOT_RECENT_USE_DAYS, seconds=1)}, "pass"),
    ],
)
def test_root_use_in_the_last_30_days(values: dict[str, str], status: str) -> None:
    payload = data(rows=[root_row(**values)])
    assert verdicts("iam_root_not_used_recently", payload) == {ACCOUNT_ARN: status}


def test_root_use_evidence_shows_the_dates() -> None:
    payload = data(
        rows=[
            root_row(
                password_last_used=ago(3),
                access_key_1_active="true",
                access_key_1_last_used_date=ago(10),
                access_key_2_last_used_date="N/A",
            )
        ]
    )
    result = only("iam_root_not_used_recently", payload)
    assert result.status == "fail"
    assert result.details == {
        "collected_at": NOW.isoformat(),
        "password_last_used": ago(3),
        "access_key_1_last_used_date": ago(10),
        "access_key_2_last_used_date": "N/A",
    }
    assert result.summary == (
        "The root user was used in the last 30 days: console password on 2024-05-29 "
        "(3 days ago); access key 1 on 2024-05-22 (10 days ago)."
    )


def test_root_use_cannot_be_told_without_a_root_row() -> None:
    result = only("iam_root_not_used_recently", data(rows=[row("alice")]))
    assert (result.resource_arn, result.status) == (ACCOUNT_ARN, "fail")
    assert "no root row" in result.summary


# --------------------------------------------------------------------------- 1.11


def test_console_users_with_an_active_key_never_used() -> None:
    payload = data(
        rows=[
            # Password and an active key never used: the key came with the account.
            row(
                "alice",
                password_enabled="true",
                access_key_1_active="true",
                access_key_1_last_rotated=ago(400),
                access_key_1_last_used_date="N/A",
            ),
            # Password and an active key in use: a program needs it.
            row(
                "bob",
                password_enabled="true",
                access_key_1_active="true",
                access_key_1_last_rotated=ago(400),
                access_key_1_last_used_date=ago(1),
            ),
            # No password: a program's user, whose key is its only way in.
            row(
                "ci",
                access_key_1_active="true",
                access_key_1_last_rotated=ago(5),
                access_key_1_last_used_date="N/A",
            ),
            # Password, and an unused key that was deactivated.
            row(
                "dora",
                password_enabled="true",
                access_key_1_active="false",
                access_key_1_last_rotated=ago(400),
            ),
            root_row(access_key_1_active="true", access_key_1_last_rotated=ago(9)),
        ]
    )
    assert verdicts("iam_user_no_access_key_at_setup", payload) == {
        user_arn("alice"): "fail",
        user_arn("bob"): "pass",
        user_arn("ci"): "pass",
        user_arn("dora"): "pass",
    }


def test_unused_setup_key_evidence_names_the_key_and_its_date() -> None:
    payload = data(
        rows=[
            row(
                "alice",
                password_enabled="true",
                user_creation_time=ago(400),
                access_key_1_active="true",
                access_key_1_last_rotated=ago(400),
                access_key_1_last_used_date=ago(2),
                access_key_2_active="true",
                access_key_2_last_rotated=ago(400),
                access_key_2_last_used_date="N/A",
            )
        ]
    )
    result = only("iam_user_no_access_key_at_setup", payload)
    assert result.status == "fail"
    assert result.summary == (
        "User alice has a console password and an active access key never used: "
        "access key 2 created on 2023-04-28."
    )
    assert result.details == {
        "user_creation_time": ago(400),
        "active_access_keys": [
            {"key": 1, "last_rotated": ago(400), "last_used_date": ago(2)},
            {"key": 2, "last_rotated": ago(400), "last_used_date": "N/A"},
        ],
    }
