"""Print a retraining plan: `manage.py plan --origin AU --credential hlt50321 --setting inpatient --destination GB`.

The arguments go through the same PlanQueryForm as /api/plan/; `--json` prints exactly the API's JSON
body, and the text is pathways.presenter's, as on the plan page.
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from advisor.learners.api import plan_body
from advisor.learners.forms import PlanQueryForm
from pathways import presenter
from pathways.reference import load_reference


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
        body = plan_body(form)
        if options["json"]:
            self.stdout.write(body.decode())
            return
        self.stdout.write(presenter.plan_text(json.loads(body)))
