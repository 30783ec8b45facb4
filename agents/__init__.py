"""Agents of civic-sim and the rules they follow.

One file per agent type. Each holds a thin Mesa agent class (its state lives in the
model's arrays, one row per agent) and the rules for that agent, written as small
functions that read like their sentence in ``docs/ODD.md``. A rule works the same for
one agent (floats) and for all of them (numpy arrays).
"""

from agents.business import Business
from agents.hub import Hub
from agents.resident import Resident
from agents.volunteer import Volunteer

__all__ = ["Business", "Hub", "Resident", "Volunteer"]
