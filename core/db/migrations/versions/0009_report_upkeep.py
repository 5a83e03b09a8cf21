"""Distinct-count upkeep in one statement: the function ``yinling_report_count``.

Revision ID: 0009_report_upkeep
Revises: 0008_member_account
Create Date: 2026-11-24 09:00:00

:func:`core.reports.facts.record` used to look up the writing tenant's path, raise the transaction-local
``yinling.report_upkeep`` setting, upsert the subject rows at every level, upsert the counters and lower the setting
again: five round trips per write with a distinct-count fact. The function does it in one call. It derives the
levels (the tenant and its ancestors) from ``tenant.path`` itself and refuses a tenant the transaction may not
write, so it writes exactly the rows a fact in that tenant implies, and nothing else.

The setting is raised by the function around its one statement and put back right after it, inside the same
call: no statement the application sends ever runs with it on. Should the statement fail, the transaction (or the
savepoint around the call) is rolled back, which undoes the transaction-local setting with it. (A ``SET`` clause on
the function would say the same more briefly, but PostgreSQL 15 lets only a superuser attach a custom setting to a
function.) The RLS policies of 0007 are unchanged: they accept the setting, and nothing else in the application
sets it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_report_upkeep"
down_revision: str | Sequence[str] | None = "0008_member_account"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION yinling_report_count(
    p_tenant integer, p_metrics text[], p_periods text[], p_subjects text[], p_steps integer[]
) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    prior text := coalesce(current_setting('yinling.report_upkeep', true), 'off');
BEGIN
    IF NOT yinling_can_write(p_tenant) THEN
        RAISE EXCEPTION 'report upkeep: tenant % is outside the write scope', p_tenant
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('yinling.report_upkeep', 'on', true);
    WITH levels AS (
        SELECT p_tenant AS tenant_id
        UNION
        SELECT unnest(string_to_array(trim(both '/' from t.path), '/')::integer[]) FROM tenant t WHERE t.id = p_tenant
    ),
    input AS (
        SELECT l.tenant_id, f.metric, f.period, f.subject, sum(f.step)::integer AS step
        FROM levels l CROSS JOIN unnest(p_metrics, p_periods, p_subjects, p_steps) AS f(metric, period, subject, step)
        GROUP BY l.tenant_id, f.metric, f.period, f.subject
        HAVING sum(f.step) <> 0
    ),
    counted AS (
        INSERT INTO report_subject AS s (tenant_id, metric, period, subject, n)
        SELECT tenant_id, metric, period, subject, step FROM input
        ON CONFLICT (tenant_id, metric, period, subject) DO UPDATE SET n = s.n + excluded.n
        RETURNING s.tenant_id, s.metric, s.period, s.subject, s.n
    ),
    moves AS (
        SELECT c.tenant_id, c.metric, c.period,
               sum(CASE WHEN c.n - i.step <= 0 AND c.n > 0 THEN 1
                        WHEN c.n <= 0 AND c.n - i.step > 0 THEN -1
                        ELSE 0 END) AS value
        FROM counted c
        JOIN input i ON i.tenant_id = c.tenant_id AND i.metric = c.metric AND i.period = c.period
                    AND i.subject = c.subject
        GROUP BY c.tenant_id, c.metric, c.period
    )
    INSERT INTO report_distinct AS d (tenant_id, metric, period, value)
    SELECT tenant_id, metric, period, value FROM moves WHERE value <> 0
    ON CONFLICT (tenant_id, metric, period) DO UPDATE SET value = d.value + excluded.value;
    PERFORM set_config('yinling.report_upkeep', prior, true);
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION_SQL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS yinling_report_count(integer, text[], text[], text[], integer[])")
