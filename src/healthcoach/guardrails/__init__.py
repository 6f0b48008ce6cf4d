"""Guardrails: policies as data (guardrails/), an input guard, an output guard.

Public API: Guardrails.load(...), .check_input(), .response_text(), .check_output();
Verdict and OutputCheck are the results.
"""

from healthcoach.guardrails.input import Verdict
from healthcoach.guardrails.output import OutputCheck
from healthcoach.guardrails.policy import Policy, load_policy
from healthcoach.guardrails.service import Guardrails

__all__ = ["Guardrails", "OutputCheck", "Policy", "Verdict", "load_policy"]
