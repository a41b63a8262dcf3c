"""Sequences: the angles, and an editor for each angle's steps with a live preview."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import exists, select
from werkzeug.wrappers import Response
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from crm.core.audit import record_audit
from crm.core.errors import UserError
from crm.extensions import db
from crm.models import Angle, Contact, Enrollment, EnrollmentState, Mailbox, Prospect, Role
from crm.outreach.merge_fields import MERGE_FIELDS, SAMPLE_CONTEXT
from crm.outreach.sequences import (
    StepInput,
    add_angle,
    find_angle,
    save_sequence_steps,
)
from crm.outreach.templates import TemplateProblem, render_body, render_subject
from crm.web.access import requires
from crm.web.forms import attach_user_error
from crm.web.objects import load_optional, visible

bp = Blueprint("sequences", __name__, url_prefix="/sequences")


class StepForm(Form):
    day_offset = IntegerField(
        "Day",
        validators=[NumberRange(min=0, max=365)],
        description="Days after the first touch (0 = day 1).",
    )
    subject = StringField(
        "Subject",
        validators=[Optional(), Length(max=500)],
        description="Empty on a follow-up: it threads as “Re: ” + the first.",
    )
    body = TextAreaField(
        "Body", validators=[DataRequired(), Length(max=20_000)], render_kw={"rows": 9}
    )
    remove = BooleanField("Remove this step")


class SequenceForm(FlaskForm):
    steps = FieldList(FormField(StepForm), min_entries=1, max_entries=8)


class AngleForm(FlaskForm):
    label = StringField("New angle", validators=[DataRequired(), Length(max=120)])
    hint = StringField("When to use it", validators=[Optional(), Length(max=300)])


def _angle(slug: str) -> Angle:
    try:
        return find_angle(slug)
    except UserError:
        abort(404)


def _inputs(form: SequenceForm) -> list[StepInput]:
    return [
        StepInput(entry.day_offset.data or 0, entry.subject.data or "", entry.body.data or "")
        for entry in form.steps.entries
        if not entry.remove.data
    ]


def preview_context(prospect: Prospect | None) -> tuple[dict[str, Any], str]:
    """Merge values for the preview: a chosen prospect's, else the sample prospect's."""
    if prospect is None:
        return SAMPLE_CONTEXT, "the sample prospect"
    from crm.outreach.context import enrollment_context

    contact = prospect.contacts[0] if prospect.contacts else Contact(email="", prospect=None)
    mailboxes = visible(Mailbox, select(Mailbox), campaign=prospect.campaign)
    mailbox = db.session.scalar(mailboxes.order_by(Mailbox.paused, Mailbox.id)) or Mailbox(
        from_name=SAMPLE_CONTEXT["sender"]["name"], from_email=SAMPLE_CONTEXT["sender"]["email"]
    )
    who = f"{prospect.domain} ({contact.email or 'no contact yet'})"
    return enrollment_context(contact, prospect, mailbox), who


def _render_step(step: StepInput, first_subject: str, ctx: dict[str, Any]) -> dict[str, Any]:
    try:
        subject = render_subject(step.subject, ctx) if step.subject else ""
        body = render_body(step.body, ctx)
    except TemplateProblem as problem:
        return {"problem": str(problem)}
    if not subject:
        # A follow-up threads under the first touch; its problems show on step 1.
        try:
            subject = "Re: " + render_subject(first_subject, ctx)
        except TemplateProblem:
            subject = "Re: …"
    return {"subject": subject, "body": body, "words": len(body.split())}


@bp.route("")
def index() -> Response | str:
    angles = db.session.scalars(select(Angle).order_by(Angle.builtin.desc(), Angle.label)).all()
    active: dict[str, int] = dict(
        db.session.execute(
            visible(Enrollment, select(Enrollment.angle, db.func.count()))
            .where(Enrollment.state == EnrollmentState.ACTIVE)
            .group_by(Enrollment.angle)
        ).all()
    )
    return render_template("sequences/index.html", angles=angles, active=active, form=AngleForm())


@bp.route("/angles", methods=["POST"])
@requires(Role.MANAGER)
def create_angle() -> Response | tuple[str, int]:
    form = AngleForm()
    if form.validate_on_submit():
        try:
            angle = add_angle(form.label.data or "", form.hint.data or "")
        except UserError as exc:
            db.session.rollback()
            attach_user_error(form, exc, "label")
        else:
            db.session.commit()
            flash(f"Angle “{angle.label}” added. Write its sequence next.", "ok")
            return redirect(url_for("sequences.edit", slug=angle.slug))
    angles = db.session.scalars(select(Angle).order_by(Angle.label)).all()
    return render_template("sequences/index.html", angles=angles, active={}, form=form), 422


@bp.route("/<slug>", methods=["GET", "POST"])
def edit(slug: str) -> Response | str:
    angle = _angle(slug)
    sequence = angle.sequence
    assert sequence is not None
    form = SequenceForm()
    if not form.is_submitted():
        form = SequenceForm(
            data={
                "steps": [
                    {
                        "day_offset": s.day_offset,
                        "subject": s.subject_template,
                        "body": s.body_template,
                    }
                    for s in sequence.steps
                ]
                or [{"day_offset": 0, "subject": "", "body": ""}]
            }
        )
    elif request.form.get("action") == "add-step":
        last = form.steps.entries[-1].day_offset.data or 0 if form.steps.entries else 0
        form.steps.append_entry({"day_offset": last + 4, "subject": "", "body": ""})
    elif form.validate_on_submit():
        if not current_user.has_role(Role.MANAGER):
            abort(403)
        try:
            save_sequence_steps(sequence, _inputs(form))
            record_audit(
                "sequence.update",
                user=current_user,
                object_type="sequence",
                object_id=sequence.id,
                angle=angle.slug,
            )
        except UserError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(f"Sequence for “{angle.label}” saved.", "ok")
            return redirect(url_for("sequences.edit", slug=angle.slug))
    prospects = preview_prospects(angle.slug)
    return render_template(
        "sequences/edit.html",
        angle=angle,
        form=form,
        merge_fields=MERGE_FIELDS,
        menu=merge_menu(),
        prospects=prospects,
        # The preview starts on a real prospect: one of this angle, else any with a contact.
        start_id=prospects[0].id if prospects else None,
        can_edit=current_user.has_role(Role.MANAGER),
    )


# Fallbacks the merge-field menu writes for optional fields, so an email still reads
# well for a prospect without them (a required field has none: it blocks the touch).
FALLBACKS = {
    "contact.first_name": "there",
    "contact.name": "there",
    "contact.role": "editor",
    "prospect.evidence_title": "your page",
    "prospect.competitor": "another site",
    "prospect.link_type": "page",
    "target.title": "our guide",
}


def merge_menu() -> list[tuple[str, str, str]]:
    """Return (tag to insert, path, description) for the editor's merge-field menu."""
    out = []
    for f in MERGE_FIELDS:
        fallback = FALLBACKS.get(f.path)
        tag = f'{{{{ {f.path}|default("{fallback}") }}}}' if fallback else f"{{{{ {f.path} }}}}"
        out.append((tag, f.path, f.description))
    return out


def preview_prospects(angle_slug: str, limit: int = 50) -> list[Prospect]:
    """Prospects the user may see that have a contact, those of this angle first."""
    base = select(Prospect).where(exists().where(Contact.prospect_id == Prospect.id))
    mine = db.session.scalars(
        visible(Prospect, base.where(Prospect.angle == angle_slug))
        .order_by(Prospect.id)
        .limit(limit)
    ).all()
    if mine:
        return list(mine)
    return list(db.session.scalars(visible(Prospect, base).order_by(Prospect.id).limit(limit)))


@bp.route("/<slug>/preview", methods=["POST"])
def preview(slug: str) -> str:
    """Render every step against the chosen prospect (htmx target of the editor)."""
    angle = _angle(slug)
    form = SequenceForm()
    prospect = load_optional(Prospect, request.form.get("prospect_id"))
    ctx, who = preview_context(prospect)
    steps = _inputs(form)
    first_subject = steps[0].subject if steps else ""
    rendered = [
        (i, s.day_offset, _render_step(s, first_subject, ctx)) for i, s in enumerate(steps, start=1)
    ]
    return render_template("sequences/_preview.html", angle=angle, rendered=rendered, who=who)
