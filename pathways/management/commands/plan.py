"""Print a retraining plan: `manage.py plan --origin AU --credential hlt50321 --setting inpatient --destination GB`.

The arguments go through the same PlanQueryForm as /api/plan/, and `--json` prints exactly the
API's JSON body.
"""

import textwrap

from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from advisor.api import plan_body
from advisor.forms import PlanQueryForm
from pathways.reference import load_reference
from pathways.rules import build_plan, months_text

WIDTH = 88


class Command(BaseCommand):
    help = "Print the retraining plan for a learner profile (the same plan as /api/plan/)."

    def add_arguments(self, parser):
        parser.add_argument("--origin", help='Country trained in (e.g. AU), or "none" if not trained yet.')
        parser.add_argument(
            "--credential", action="append", default=[], help="A credential code held; repeat for several."
        )
        parser.add_argument("--setting", help="inpatient, outpatient or both (default both).")
        parser.add_argument("--years", help="Whole years of coding experience.")
        parser.add_argument("--destination", help="Country to work in (e.g. GB).")
        parser.add_argument("--json", action="store_true", help="Print the plan as the API's JSON.")

    def handle(self, *args, **options):
        query = QueryDict(mutable=True)
        for name in ("origin", "setting", "years", "destination"):
            if options[name] is not None:
                query[name] = options[name]
        query.setlist("credential", options["credential"])
        form = PlanQueryForm(query, reference=load_reference())
        if not form.is_valid():
            problems = [
                f"--{name}: {message}" if name != "__all__" else message
                for name, messages in form.errors_as_dict().items()
                for message in messages
            ]
            raise CommandError("The plan cannot be built:\n  " + "\n  ".join(problems))
        if options["json"]:
            self.stdout.write(plan_body(form).decode())
            return
        self.stdout.write(render_text(build_plan(form.profile, form.reference).as_dict()))


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")


def render_text(plan: dict) -> str:
    """A plain-text plan from the plan JSON, for the terminal."""
    origin = plan["origin"]["name"] if plan["origin"] else "New to coding"
    destination = plan["destination"]
    lines = [
        f"{origin} → {destination['name']} ({plan['setting']})",
        f"Difficulty: {plan['difficulty']['rank']} – {plan['difficulty']['label']}. {plan['headline']}",
    ]
    if plan["summary"]:
        lines.append(_wrap(plan["summary"], ""))
    lines += ["", f"Profession there: {destination['profession']}; grouper/funding: {destination['grouper']}"]
    if plan["transferable_skills"]:
        lines += ["", "What carries over:"] + [_wrap(f"- {skill}") for skill in plan["transferable_skills"]]
    if plan["classifications"] or plan["other_gaps"]:
        lines += ["", "Classifications and other gaps:"]
        for item in plan["classifications"]:
            known = f" (from {item['known_from']})" if item["known_from"] else ""
            lines.append(_wrap(f"- {item['name']} [{item['kind']}]: {item['gap']}{known}. {item['note']}"))
        for item in plan["other_gaps"]:
            lines.append(_wrap(f"- {item['title']}: {item['gap']}. {item['note']}"))
    if plan["credentials"]:
        lines += ["", "Credentials employers expect (same step = alternatives):"]
        for item in plan["credentials"]:
            held = " – you hold this" if item["held"] else ""
            lines.append(_wrap(f"- step {item['step']}: {item['name']} ({item['awarded_by']}){held}"))
    lines += ["", "Steps:"]
    for number, step in enumerate(plan["steps"], 1):
        lines.append(_wrap(f"{number}. {step['title']} – {months_text(step['months'])}"))
        lines.append(_wrap(step["detail"], "     "))
    if plan["total_months"] is None:
        lines += ["", "Total: time varies (no step has a published figure)"]
    else:
        partial = " (counting only the steps with published figures)" if plan["total_is_partial"] else ""
        lines += ["", f"Total: {months_text(plan['total_months'])}{partial}"]
    if plan["warnings"]:
        lines += ["", "Warnings:"] + [_wrap(f"! {item['text']}") for item in plan["warnings"]]
    if plan["notes"]:
        lines += ["", "Notes:"] + [_wrap(f"- {text}") for text in plan["notes"]]
    if plan["ranking"]:
        lines += ["", f"Every destination from {origin}, easiest first:"]
        for item in plan["ranking"]:
            lines.append(_wrap(f"{item['rank']} {item['name']} ({item['label']}): {item['reasons']}"))
    return "\n".join(lines) + "\n"
