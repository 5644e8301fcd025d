"""The authorization matrix: every route in the URL map × every role (and nobody signed in) ×
a record inside and outside the user's scope → the expected answer. A route missing from
MATRIX, or whose declared permission differs from it, fails the test: adding a route means
deciding here who may use it."""

from __future__ import annotations

import pytest

from tests.conftest import sign_in
from tests.security.conftest import FIXED_ARGUMENTS, IN_SCOPE, OUT_OF_SCOPE, in_address, seeded_objects
from vat.auth.models import Role
from vat.auth.policy import SCOPED_ROLES, can, declared_permission
from vat.auth.policy import Permission as P

ANY = "any"  # the URL names no victim data (or none at all): scope does not apply
SCOPED = "scoped"  # the URL names victim data: outside a scoped user's scope it is 404
OWNER = "owner"  # the URL names someone's job: anyone but its owner gets 404

# (method, endpoint) → (the permission it must declare, whether its records are scoped)
MATRIX: dict[tuple[str, str], tuple[P, str]] = {
    ("GET", "main.dashboard"): (P.SIGNED_IN, ANY),
    ("GET", "admin.audit_log"): (P.READ_AUDIT, ANY),
    ("GET", "admin.audit_export"): (P.READ_AUDIT, ANY),
    ("GET", "admin.break_glass_review"): (P.REVIEW_BREAK_GLASS, ANY),
    ("POST", "admin.acknowledge_break_glass"): (P.REVIEW_BREAK_GLASS, ANY),
    ("GET", "admin.users"): (P.MANAGE_USERS, ANY),
    ("GET", "admin.edit_user"): (P.MANAGE_USERS, ANY),
    ("POST", "admin.update_user"): (P.MANAGE_USERS, ANY),
    ("GET", "admin.new_user"): (P.MANAGE_USERS, ANY),
    ("POST", "admin.create_user"): (P.MANAGE_USERS, ANY),
    ("POST", "admin.end_user_sessions"): (P.MANAGE_USERS, ANY),
    ("POST", "admin.unlock_user"): (P.MANAGE_USERS, ANY),
    ("POST", "admin.reset_password"): (P.MANAGE_USERS, ANY),
    ("POST", "admin.reset_second_factor"): (P.MANAGE_USERS, ANY),
    ("GET", "admin.requests"): (P.MANAGE_USERS, ANY),
    ("POST", "admin.approve_request"): (P.MANAGE_USERS, ANY),
    ("POST", "admin.refuse_request"): (P.MANAGE_USERS, ANY),
    ("GET", "admin.acted_alone"): (P.REVIEW_ADMIN_ACTS, ANY),
    ("POST", "admin.acknowledge_act"): (P.REVIEW_ADMIN_ACTS, ANY),
    ("GET", "auth.login"): (P.PUBLIC, ANY),
    ("POST", "auth.submit_login"): (P.PUBLIC, ANY),
    ("GET", "auth.second_factor"): (P.PUBLIC, ANY),
    ("POST", "auth.check_second_factor"): (P.PUBLIC, ANY),
    ("POST", "auth.logout"): (P.SIGNED_IN, ANY),
    ("POST", "auth.keep_alive"): (P.SIGNED_IN, ANY),
    ("GET", "auth.fresh_token"): (P.SIGNED_IN, ANY),
    ("GET", "auth.change_password"): (P.SIGNED_IN, ANY),
    ("POST", "auth.save_password"): (P.SIGNED_IN, ANY),
    ("GET", "auth.reauthenticate"): (P.SIGNED_IN, ANY),
    ("POST", "auth.confirm_reauthentication"): (P.SIGNED_IN, ANY),
    ("GET", "auth.enrol_totp"): (P.SIGNED_IN, ANY),
    ("POST", "auth.confirm_totp"): (P.SIGNED_IN, ANY),
    ("GET", "auth.sessions"): (P.SIGNED_IN, ANY),
    ("POST", "auth.end_session"): (P.SIGNED_IN, ANY),
    ("GET", "auth.security_notices"): (P.SIGNED_IN, ANY),
    ("POST", "auth.mark_notices_seen"): (P.SIGNED_IN, ANY),
    ("GET", "auth.reset_password"): (P.PUBLIC, ANY),
    ("POST", "auth.use_reset_code"): (P.PUBLIC, ANY),
    ("GET", "main.health"): (P.PUBLIC, ANY),
    ("GET", "main.language"): (P.SIGNED_IN, ANY),
    ("POST", "main.save_language"): (P.SIGNED_IN, ANY),
    ("GET", "ledger.index"): (P.READ_LEDGER, ANY),
    ("GET", "ledger.approvals"): (P.APPROVE_DISBURSEMENT, ANY),
    ("POST", "ledger.approve"): (P.APPROVE_DISBURSEMENT, ANY),
    ("POST", "ledger.reject"): (P.APPROVE_DISBURSEMENT, ANY),
    ("GET", "ledger.direct_support"): (P.READ_LEDGER, ANY),
    ("GET", "ledger.new_direct_support"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.pay_direct_support"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.envelope_list"): (P.READ_LEDGER, ANY),
    ("GET", "ledger.new_envelope"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.open_envelope"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.confirm_envelope"): (P.APPROVE_DISBURSEMENT, ANY),
    ("GET", "ledger.envelope_payment"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.pay_from_envelope"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.donors"): (P.READ_LEDGER, ANY),
    ("GET", "ledger.donor"): (P.READ_LEDGER, ANY),
    ("GET", "ledger.new_pledge"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.record_pledge"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.new_receipt"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.record_receipt"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.new_donor"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.create_donor"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.entry"): (P.READ_LEDGER, ANY),
    ("POST", "ledger.reverse"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.journal"): (P.READ_LEDGER, ANY),
    ("GET", "ledger.periods"): (P.READ_LEDGER, ANY),
    ("POST", "ledger.close_period"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.period"): (P.READ_LEDGER, ANY),
    ("GET", "ledger.period_export"): (P.READ_LEDGER, ANY),
    ("GET", "ledger.projects"): (P.READ_LEDGER, ANY),
    ("POST", "ledger.schedule_report"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.receive_report"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.project_report"): (P.READ_LEDGER, ANY),
    ("POST", "ledger.import_report_lines"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.project"): (P.READ_LEDGER, ANY),
    ("GET", "ledger.disburse"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.request_disbursement"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.project_progress"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.release_project"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.end_project"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.new_project"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.approve_project"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.rates"): (P.READ_LEDGER, ANY),
    ("POST", "ledger.record_rate"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.import_rates"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.import_page"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.import_history"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.import_template_csv"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.import_template_xlsx"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.import_job_page"): (P.RECORD_LEDGER, OWNER),
    ("GET", "ledger.import_job_status"): (P.RECORD_LEDGER, OWNER),
    ("POST", "ledger.confirm_rate"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.confirm_rates"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.statement"): (P.READ_LEDGER, ANY),
    ("GET", "ledger.static"): (P.PUBLIC, ANY),
    ("GET", "ledger.trial_balance"): (P.READ_LEDGER, ANY),
    ("GET", "ledger.reconciliation"): (P.READ_LEDGER, ANY),
    ("GET", "ledger.withholding"): (P.READ_LEDGER, ANY),
    ("GET", "ledger.new_transfer"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.record_transfer"): (P.RECORD_LEDGER, ANY),
    ("GET", "ledger.new_withholding"): (P.RECORD_LEDGER, ANY),
    ("GET", "reports.withholdings_to_record"): (P.RECORD_LEDGER, ANY),
    ("POST", "ledger.record_withholding"): (P.RECORD_LEDGER, ANY),
    ("GET", "reports.index"): (P.VIEW_CASES, ANY),
    ("GET", "reports.assistance"): (P.VIEW_CASES, ANY),
    ("GET", "reports.assistance_export"): (P.VIEW_CASES, ANY),
    ("GET", "reports.quality"): (P.VIEW_CASES, ANY),
    ("GET", "reports.quality_export"): (P.VIEW_CASES, ANY),
    ("GET", "reports.claims"): (P.VIEW_CASES, ANY),
    ("GET", "reports.claims_export"): (P.VIEW_CASES, ANY),
    ("GET", "reports.referrals"): (P.VIEW_CASES, ANY),
    ("GET", "reports.referrals_export"): (P.VIEW_CASES, ANY),
    ("GET", "reports.clock"): (P.VIEW_CASES, ANY),
    ("GET", "reports.clock_export"): (P.VIEW_CASES, ANY),
    ("GET", "reports.member_states"): (P.VIEW_CASES, ANY),
    ("GET", "reports.member_states_export"): (P.VIEW_CASES, ANY),
    ("GET", "reports.statistics_page"): (P.VIEW_CASES, ANY),
    ("GET", "reports.statistics_export"): (P.VIEW_CASES, ANY),
    ("GET", "reports.un_report_page"): (P.VIEW_CASES, ANY),
    ("GET", "reports.un_report_export"): (P.VIEW_CASES, ANY),
    ("GET", "reports.figures_pack"): (P.VIEW_CASES, ANY),
    ("GET", "reports.fund"): (P.READ_LEDGER, ANY),
    ("GET", "reports.fund_export"): (P.READ_LEDGER, ANY),
    ("GET", "reports.victims"): (P.VIEW_CASES, ANY),
    ("GET", "reports.victims_export_deidentified"): (P.VIEW_CASES, ANY),
    ("GET", "reports.victims_export"): (P.VIEW_CASES, ANY),
    ("GET", "reports.victims_download"): (P.VIEW_CASES, ANY),
    ("GET", "reports.victims_download_deidentified"): (P.VIEW_CASES, ANY),
    ("POST", "reports.start_victims_export"): (P.VIEW_CASES, ANY),
    ("POST", "reports.start_victims_export_deidentified"): (P.VIEW_CASES, ANY),
    ("GET", "reports.export_job"): (P.VIEW_CASES, OWNER),
    ("GET", "reports.export_job_status"): (P.VIEW_CASES, OWNER),
    ("GET", "reports.export_job_file"): (P.VIEW_CASES, OWNER),
    ("GET", "static"): (P.PUBLIC, ANY),
    ("GET", "allegations.index"): (P.VIEW_IDENTITY, ANY),
    ("GET", "allegations.show"): (P.VIEW_IDENTITY, SCOPED),
    ("GET", "allegations.edit"): (P.EDIT_CASES, SCOPED),
    ("POST", "allegations.update"): (P.EDIT_CASES, SCOPED),
    ("POST", "allegations.link_victim"): (P.EDIT_CASES, SCOPED),
    ("GET", "allegations.clock_rules"): (P.VIEW_IDENTITY, ANY),
    ("POST", "allegations.update_clock_rule"): (P.EDIT_POLICY, ANY),
    ("GET", "allegations.cycle_rules"): (P.VIEW_IDENTITY, ANY),
    ("POST", "allegations.update_cycle_rule_view"): (P.EDIT_POLICY, ANY),
    ("GET", "allegations.new"): (P.EDIT_CASES, ANY),
    ("GET", "allegations.cycle_step"): (P.EDIT_CASES, SCOPED),
    ("POST", "allegations.record_cycle_step"): (P.EDIT_CASES, SCOPED),
    ("GET", "allegations.letter"): (P.EDIT_CASES, SCOPED),
    ("POST", "allegations.record_letter"): (P.EDIT_CASES, SCOPED),
    ("GET", "allegations.correspondence"): (P.VIEW_IDENTITY, ANY),
    ("POST", "allegations.create"): (P.EDIT_CASES, ANY),
    ("GET", "victims.attention"): (P.VIEW_IDENTITY, ANY),
    ("GET", "victims.break_glass"): (P.BREAK_GLASS, ANY),
    ("POST", "victims.open_through_glass"): (P.BREAK_GLASS, ANY),
    ("GET", "victims.retention_due"): (P.ERASE_IDENTITIES, ANY),
    ("POST", "victims.request_erasure"): (P.ERASE_IDENTITIES, SCOPED),
    ("POST", "victims.withdraw_erasure"): (P.ERASE_IDENTITIES, SCOPED),
    ("POST", "victims.erase_identity"): (P.ERASE_IDENTITIES, SCOPED),
    ("GET", "claims.index"): (P.VIEW_CASES, ANY),
    ("GET", "claims.show"): (P.VIEW_IDENTITY, SCOPED),
    ("GET", "claims.edit_father"): (P.EDIT_CASES, SCOPED),
    ("POST", "claims.save_father"): (P.EDIT_CASES, SCOPED),
    ("GET", "claims.inform"): (P.EDIT_CASES, SCOPED),
    ("POST", "claims.record_update"): (P.EDIT_CASES, SCOPED),
    ("GET", "claims.letter"): (P.EDIT_CASES, SCOPED),
    ("POST", "claims.record_letter"): (P.EDIT_CASES, SCOPED),
    ("GET", "claims.step_letter_page"): (P.EDIT_CASES, SCOPED),
    ("POST", "claims.step_letter"): (P.EDIT_CASES, SCOPED),
    ("GET", "claims.payment"): (P.EDIT_CASES, SCOPED),
    ("POST", "claims.record_payment"): (P.EDIT_CASES, SCOPED),
    ("GET", "claims.reopen"): (P.EDIT_CASES, SCOPED),
    ("POST", "claims.reopen_claim"): (P.EDIT_CASES, SCOPED),
    ("GET", "claims.step"): (P.EDIT_CASES, SCOPED),
    ("POST", "claims.record_step"): (P.EDIT_CASES, SCOPED),
    ("GET", "claims.new"): (P.EDIT_CASES, ANY),
    ("POST", "claims.open_claim"): (P.EDIT_CASES, ANY),
    ("GET", "claims.legal_details"): (P.EDIT_CASES, SCOPED),
    ("POST", "claims.save_legal"): (P.EDIT_CASES, SCOPED),
    ("GET", "claims.dna_cost"): (P.EDIT_CASES, SCOPED),
    ("POST", "claims.save_dna_cost"): (P.EDIT_CASES, SCOPED),
    ("GET", "claims.link_child"): (P.EDIT_CASES, SCOPED),
    ("POST", "claims.save_child_link"): (P.EDIT_CASES, SCOPED),
    ("GET", "claims.link_support"): (P.EDIT_CASES, SCOPED),
    ("POST", "claims.save_support_link"): (P.EDIT_CASES, SCOPED),
    ("GET", "claims.reversal"): (P.EDIT_CASES, SCOPED),
    ("POST", "claims.reverse_payment"): (P.EDIT_CASES, SCOPED),
    # the member states' frameworks name no victim data
    ("GET", "claims.framework_list"): (P.EDIT_FRAMEWORKS, ANY),
    ("GET", "claims.framework"): (P.EDIT_FRAMEWORKS, ANY),
    ("POST", "claims.save_framework"): (P.EDIT_FRAMEWORKS, ANY),
    ("GET", "victims.import_records"): (P.EDIT_CASES, ANY),
    ("POST", "victims.run_import"): (P.EDIT_CASES, ANY),
    ("GET", "victims.import_template"): (P.EDIT_CASES, ANY),
    ("GET", "victims.import_template_csv"): (P.EDIT_CASES, ANY),
    ("GET", "victims.import_job_page"): (P.EDIT_CASES, OWNER),
    ("GET", "victims.import_job_status"): (P.EDIT_CASES, OWNER),
    ("GET", "victims.index"): (P.VIEW_IDENTITY, ANY),
    ("POST", "victims.by_name"): (P.VIEW_IDENTITY, ANY),
    ("POST", "victims.export_disclosure"): (P.VIEW_IDENTITY, SCOPED),
    ("GET", "victims.show"): (P.VIEW_IDENTITY, SCOPED),
    ("POST", "victims.link_allegation"): (P.EDIT_CASES, SCOPED),
    ("POST", "victims.unlink_allegation"): (P.EDIT_CASES, SCOPED),
    ("GET", "victims.edit_assistance"): (P.EDIT_CASES, SCOPED),
    ("POST", "victims.update_assistance"): (P.EDIT_CASES, SCOPED),
    ("GET", "victims.new_assistance"): (P.EDIT_CASES, SCOPED),
    ("POST", "victims.create_assistance"): (P.EDIT_CASES, SCOPED),
    ("GET", "victims.edit_child"): (P.EDIT_CASES, SCOPED),
    ("POST", "victims.update_child"): (P.EDIT_CASES, SCOPED),
    ("GET", "victims.new_child"): (P.EDIT_CASES, SCOPED),
    ("POST", "victims.create_child"): (P.EDIT_CASES, SCOPED),
    ("GET", "victims.new_need"): (P.EDIT_CASES, SCOPED),
    ("POST", "victims.assess_need"): (P.EDIT_CASES, SCOPED),
    ("GET", "victims.new_service_feedback"): (P.EDIT_CASES, SCOPED),
    ("POST", "victims.record_service_feedback"): (P.EDIT_CASES, SCOPED),
    ("GET", "victims.new_update_feedback"): (P.EDIT_CASES, SCOPED),
    ("POST", "victims.record_update_feedback"): (P.EDIT_CASES, SCOPED),
    ("POST", "victims.feedback_followed_up"): (P.EDIT_CASES, SCOPED),
    ("GET", "victims.outcome_letter_page"): (P.EDIT_CASES, SCOPED),
    ("POST", "victims.outcome_letter"): (P.EDIT_CASES, SCOPED),
    ("GET", "victims.letter_templates_list"): (P.EDIT_POLICY, ANY),
    ("GET", "victims.letter_template"): (P.EDIT_POLICY, ANY),
    ("POST", "victims.save_letter_template"): (P.EDIT_POLICY, ANY),
    ("GET", "victims.new_communication"): (P.EDIT_CASES, SCOPED),
    ("POST", "victims.create_communication"): (P.EDIT_CASES, SCOPED),
    ("GET", "victims.withdraw_consent"): (P.EDIT_CASES, SCOPED),
    ("POST", "victims.confirm_withdrawal"): (P.EDIT_CASES, SCOPED),
    ("GET", "victims.new_consent"): (P.EDIT_CASES, SCOPED),
    ("POST", "victims.create_consent"): (P.EDIT_CASES, SCOPED),
    ("GET", "victims.new_disclosure"): (P.EDIT_CASES, SCOPED),
    ("POST", "victims.create_disclosure"): (P.EDIT_CASES, SCOPED),
    ("GET", "victims.edit"): (P.EDIT_CASES, SCOPED),
    ("POST", "victims.update"): (P.EDIT_CASES, SCOPED),
    ("POST", "victims.set_status"): (P.EDIT_CASES, SCOPED),
    ("GET", "providers.directory"): (P.SIGNED_IN, ANY),
    ("GET", "providers.new"): (P.MANAGE_PROVIDERS, ANY),
    ("POST", "providers.create"): (P.MANAGE_PROVIDERS, ANY),
    # a senior advocate keeps the providers of their countries; another country's answers 404
    ("GET", "providers.edit"): (P.MANAGE_PROVIDERS, SCOPED),
    ("POST", "providers.update"): (P.MANAGE_PROVIDERS, SCOPED),
    ("GET", "victims.new"): (P.EDIT_CASES, ANY),
    ("POST", "victims.create"): (P.EDIT_CASES, ANY),
}

# Roles the view itself refuses beyond the declared permission (a second check inside the view).
REFUSED_IN_VIEW: dict[tuple[str, str], frozenset[Role]] = {
    # those who see only aggregates get no rows, even de-identified ones
    ("GET", "reports.victims_export_deidentified"): frozenset({Role.FUND_MANAGER, Role.AUDITOR}),
    # the download pages with a progress bar are for the per-victim exports only
    ("GET", "reports.victims_download"): frozenset({Role.FUND_MANAGER, Role.AUDITOR}),
    ("GET", "reports.victims_download_deidentified"): frozenset({Role.FUND_MANAGER, Role.AUDITOR}),
    ("POST", "reports.start_victims_export"): frozenset({Role.FUND_MANAGER, Role.AUDITOR}),
    ("POST", "reports.start_victims_export_deidentified"): frozenset({Role.FUND_MANAGER, Role.AUDITOR}),
    # identities leave the system only with a senior advocate (DESIGN, Security)
    ("POST", "victims.export_disclosure"): frozenset({Role.ADVOCATE}),
}

STATIC_FILES = {"static": {"filename": "app.css"}, "ledger.static": {"filename": "ledger.css"}}


class _RoleOnly:
    is_authenticated = True

    def __init__(self, role: Role) -> None:
        self.role = role


def routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_an_entry_matching_its_declared_permission(app):
    missing, wrong = [], []
    for rule, method in routes(app):
        entry = MATRIX.get((method, rule.endpoint))
        if entry is None:
            missing.append((method, rule.rule))
        elif entry[0] is not declared_permission(app, rule.endpoint):
            wrong.append((method, rule.rule, entry[0], declared_permission(app, rule.endpoint)))
    assert not missing, f"routes without an entry in MATRIX: {missing}"
    assert not wrong, f"routes whose declared permission differs from MATRIX: {wrong}"
    stale = set(MATRIX) - {(method, rule.endpoint) for rule, method in routes(app)}
    assert not stale, f"MATRIX entries for routes that no longer exist: {stale}"


def expected(role: Role | None, key: tuple[str, str], inside: bool) -> str:
    permission, where = MATRIX[key]
    if permission is P.PUBLIC:
        return "served"
    if role is None:
        return "login"
    if not can(_RoleOnly(role), permission) or role in REFUSED_IN_VIEW.get(key, ()):
        return "forbidden"
    if where == SCOPED and role in SCOPED_ROLES and not inside:
        return "not found"
    if where == OWNER:
        return "not found"
    return "served"


def outcome(response) -> str:
    status = response.status_code
    if status == 302 and response.headers["Location"].startswith("/auth/login?next="):
        return "login"
    if status >= 500:
        return f"error {status}"
    return {403: "forbidden", 404: "not found", 401: "unauthorized"}.get(status, "served")


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "anonymous")
def test_every_route_answers_as_the_matrix_says(app, make_user, role):
    user = make_user(role, IN_SCOPE) if role else None
    records = {True: seeded_objects(app, IN_SCOPE), False: seeded_objects(app, OUT_OF_SCOPE)}

    def new_client():
        client = app.test_client()
        if user:
            sign_in(app, client, user)
        return client

    reused = new_client()
    mismatches, checked = [], 0
    for rule, method in routes(app):
        where = MATRIX[(method, rule.endpoint)][1]
        for inside in (True, False) if where == SCOPED else (True,):
            values = {**records[inside], **FIXED_ARGUMENTS, **STATIC_FILES.get(rule.endpoint, {})}
            url = rule.build({name: values[name] for name in in_address(rule)}, append_unknown=False)[1]
            # A POST, or any page of the sign-in flow, may end or change the session: use a new one.
            fresh = method == "POST" or rule.endpoint.startswith("auth.")
            client = new_client() if fresh else reused
            response = client.open(url, method=method)
            got = outcome(response)
            response.close()
            want = expected(role, (method, rule.endpoint), inside)
            checked += 1
            if got != want:
                mismatches.append((method, url, "inside" if inside else "outside", want, got))
    assert not mismatches, mismatches
    assert checked >= len(MATRIX)
