"""The DR drills' results over the report window (runbook 4.4): recovery time and data-loss
window of each completed drill, against the RTO and RPO it was held to."""

from __future__ import annotations

from drills.selectors import completed_between, drill_result


def dr_drills_table(w, table_class):  # noqa: ANN001, ANN201 - reports.selectors' Window, Table
    rows = []
    for drill in completed_between(w.lo, w.hi):
        r = drill_result(drill)
        rows.append(
            [
                f"{drill.failure_at:%Y-%m-%d}",
                r["recovery_minutes"],
                r["loss_minutes"],
                f"{'met' if r['rto_met'] else 'missed'} ({drill.rto_minutes})",
                f"{'met' if r['rpo_met'] else 'missed'} ({drill.rpo_minutes})",
            ]
        )
    return table_class(
        "dr_drills",
        "DR drills: recovery time and data loss (runbook 4.4)",
        ["drill (T0)", "recovery minutes", "data-loss minutes", "RTO minutes", "RPO minutes"],
        rows,
        chart=(1, 2),
    )
