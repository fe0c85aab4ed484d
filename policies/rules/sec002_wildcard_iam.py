"""SEC002: no IAM statement allows action `*` on resource `*`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from policies.model import Result, Rule, StackView, from_problems, values_at
from policies.policy_documents import Statement, document_statements, json_statements

# Attributes holding a policy JSON document (checked when they are literal JSON).
POLICY_ATTRIBUTES = ("policy", "inline_policy.policy")


def problems(statements: list[Statement]) -> Iterator[str]:
    for st in statements:
        if st.effect == "Allow" and "*" in st.actions and "*" in st.resources:
            yield f"{st.label} allows action * on resource *"


class WildcardIam(Rule):
    id = "SEC002"
    family = "security"
    title = "no IAM statement allowing `*` actions on `*` resources"
    rationale = ("`*` on `*` is administrator access: one compromised role or task could do "
                 "anything in the account. Least privilege names the actions and resources.")
    fix = ("list the actions the workload calls and scope resources to ARNs (from the KeyRef/"
           "TopicRef/... the construct was given)")

    def check_stack(self, stack: StackView) -> Iterable[tuple[str, Result]]:
        for doc in stack.of_type("aws_iam_policy_document", data=True):
            yield doc.address, from_problems(list(problems(document_statements(doc.body))))
        for resource in stack.resources:
            found, seen = [], False
            for attr in POLICY_ATTRIBUTES:
                for text in values_at(resource.body, attr):
                    statements = json_statements(text, where=f"{attr} ")
                    if statements is not None:
                        seen = True
                        found.extend(problems(statements))
            if seen:  # a policy from a document is checked on the document
                yield resource.address, from_problems(found)


RULE = WildcardIam()
