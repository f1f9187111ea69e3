"""The management review (ISO 9001 §9.3): the figures of a period gathered, translated and
formatted, laid out by `printing.management_review`; its date kept for the next one."""

import datetime as dt

from peewee import JOIN

from nest_desktop.db.models import AuditEntry, CorrectiveAction, QualityCase, User, database
from nest_desktop.domain import clock
from nest_desktop.domain import quality as rules
from nest_desktop.i18n import N_, _, format_date, format_indicator, format_number
from nest_desktop.services import desk, indicators, quality, session, settings
from nest_desktop.services.documents import letterhead, text
from nest_desktop.services.exports import safe_file_name

LAST_REVIEW_KEY = "quality.last_review"  # {"on": ISO date, "period": name}
REMARKS_SHOWN = 40


def _period_words(period: rules.Period) -> str:
    return _("from {start} to {end}").format(start=format_date(period.start),
                                             end=format_date(period.end))


def _case_lines(scope: indicators.Scope) -> list:
    """The cases of the period and those still open from before, with their actions."""
    from nest_desktop.printing.management_review import CaseLine

    condition = (((QualityCase.occurred_on >= scope.period.start)
                  & (QualityCase.occurred_on <= scope.period.end))
                 | (QualityCase.status.in_(rules.OPEN_STATUSES)
                    & (QualityCase.occurred_on < scope.period.start)))
    if scope.site_id is not None:
        condition &= QualityCase.site == scope.site_id
    ids = [case_id for (case_id,) in QualityCase.select(QualityCase.id).where(condition)
           .order_by(QualityCase.occurred_on, QualityCase.id).tuples()]
    rows = quality.rows_for(ids)
    actions: dict[int, list[str]] = {}
    for action in (CorrectiveAction.select(CorrectiveAction, User)
                   .join(User, JOIN.LEFT_OUTER, on=CorrectiveAction.owner == User.id)
                   .where(CorrectiveAction.case.in_(ids)).order_by(CorrectiveAction.id)):
        state = (_("cancelled") if action.cancelled
                 else _("done on {date}").format(date=format_date(action.done_at.date()))
                 if action.done_at else _("due {date}").format(
                     date=format_date(action.deadline)))
        actions.setdefault(action.case_id, []).append(
            f"{text(action.description)} ({text(action.owner.full_name if action.owner_id else '')}"
            f", {state})")
    lines = []
    for case_id in ids:
        row = rows[case_id]
        what = ", ".join(x for x in (_(rules.CATEGORIES.get(row.category, row.category)),
                                     _(rules.SEVERITIES.get(row.severity, row.severity)),
                                     text(row.person)) if x)
        lines.append(CaseLine(str(case_id), format_date(row.occurred_on),
                              f"{_(rules.KINDS[row.kind])} — {what}", text(row.description),
                              "<br/>".join(actions.get(case_id, [])) or "—",
                              _(rules.STATUSES[row.status])))
    return lines


def _changes(table_rows: list[indicators.Row], since: dt.date | None,
             scope: indicators.Scope) -> list[str]:
    """What changed since the last review: cases and actions, targets, indicators met."""
    lines = []
    if since is not None:
        start = dt.datetime.combine(since, dt.time.min)
        recorded = QualityCase.select().where(QualityCase.recorded_at >= start).count()
        closed = QualityCase.select().where(QualityCase.closed_at >= start).count()
        done = CorrectiveAction.select().where(CorrectiveAction.done_at >= start).count()
        lines.append(_("Since the last review ({date}): {recorded} cases recorded, {closed} "
                       "closed, {done} corrective actions done.").format(
            date=format_date(since), recorded=format_number(recorded),
            closed=format_number(closed), done=format_number(done)))
        for entry in (AuditEntry.select().where(
                (AuditEntry.table == "setting") & (AuditEntry.at >= start)
                & AuditEntry.changes.contains(indicators.TARGETS_KEY))
                .order_by(AuditEntry.at)):
            lines.append(_("Targets changed on {date} by {name}.").format(
                date=format_date(entry.at.date()), name=text(entry.user_name)))
    else:
        lines.append(_("This is the first management review made with NEST Desktop."))
    now_met = [row.label for row in table_rows if row.met is True and row.previous is not None
               and rules.target_met(row.indicator, row.previous.value, row.target) is False]
    now_missed = [row.label for row in table_rows if row.met is False
                  and row.previous is not None
                  and rules.target_met(row.indicator, row.previous.value, row.target) is True]
    if now_met:
        lines.append(_("Met now, not in the previous period: {names}.").format(
            names=", ".join(text(name) for name in now_met)))
    if now_missed:
        lines.append(_("Not met now, met in the previous period: {names}.").format(
            names=", ".join(text(name) for name in now_missed)))
    return lines


def review_pdf(scope: indicators.Scope, now: dt.datetime | None = None) -> tuple[str, bytes]:
    """The review's PDF for the period and site(s); its date is kept for the next one."""
    from nest_desktop.printing import management_review as printing

    user = session.require("quality.manage")
    now = now or clock.now()
    site = desk.get_site(scope.site_id) if scope.site_id else None
    table_rows, periods = indicators.table_and_trend(scope, now)
    last = settings.get(LAST_REVIEW_KEY) or {}
    # made again the same day (a correction): still compared with the review before
    before = last.get("previous") if last.get("on") == now.date().isoformat() \
        else last.get("on")
    since = dt.date.fromisoformat(before) if before else None
    groups: dict[str, list] = {}
    for row in table_rows:
        unit = row.indicator.unit
        groups.setdefault(row.indicator.group, []).append(printing.IndicatorLine(
            text(row.label), format_indicator(unit, row.value.value),
            indicators.details_text(row),
            format_indicator(unit, row.previous.value if row.previous else None),
            format_indicator(unit, row.target) if row.target is not None else "",
            {True: _("Met"), False: _("Not met"), None: ""}[row.met],
            [values[row.indicator.key].value if row.indicator.key in values else None
             for _period, values in periods],
            row.target, 100.0 if unit in (rules.PERCENT, rules.SCORE) else None))
    remarks = indicators.drill("surveys.remarks", "all", scope, now)
    remark_rows = indicators.drill_rows(remarks.kind, remarks.ids[-REMARKS_SHOWN:])
    sites = text(site.name) if site else _("all sites")
    title = _("Management review — {period}").format(
        period=indicators.period_name(scope.period))
    summary = [_("Period {period}, {sites}.").format(period=_period_words(scope.period),
                                                    sites=sites),
               _("Prepared on {date} by {name}.").format(date=format_date(now.date()),
                                                         name=text(user.full_name))]
    if scope.user_id is not None:
        summary.append(_("Figures of {name} only.").format(
            name=text(User.get_by_id(scope.user_id).full_name)))
    first, last_period = periods[0][0], periods[-1][0]
    document = printing.ReviewDocument(
        title, summary,
        (_("Indicator"), _("Value"), _("Counted"), _("Previous"), _("Target"), _("Met"),
         _("Trend")),
        _("Trend: the last {count} periods, {first} to {last}; the dashed line is the "
          "target.").format(count=len(periods), first=indicators.period_name(first),
                            last=indicators.period_name(last_period)),
        [printing.IndicatorGroup(_(rules.GROUPS[group]), lines)
         for group, lines in groups.items()],
        _("Satisfaction: the remarks of the period"),
        [(format_date(row.when.date()), text(row.person), text(row.detail))
         for row in remark_rows],
        _("Complaints and non-conformities"),
        (_("No."), _("Date"), _("What"), _("What happened"), _("Actions"), _("Status")),
        _case_lines(scope),
        _("What changed since the last review"), _changes(table_rows, since, scope),
        _("Nothing in this period."))
    pdf = printing.render(document, letterhead(site, now.date()))
    with database.atomic():
        settings.record_state(LAST_REVIEW_KEY, {"on": now.date().isoformat(),
                                                "previous": before,
                                                "period": indicators.period_name(scope.period)})
        session.log("print", "quality_indicators", None, details=N_("management review"))
    return safe_file_name(title) + ".pdf", pdf
