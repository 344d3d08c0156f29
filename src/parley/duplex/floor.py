"""Who holds the floor, as an explicit state machine whose every transition is an event.

    idle ⇄ user        the user speaks / stops (VAD + endpointing)
    idle ⇄ agent       agent audio starts / ends
    agent → overlap    the user starts over the agent (the agent pauses at once)
    overlap → agent    it was a backchannel or a noise: the agent resumes
    overlap → user     a barge-in: the agent stopped, the user has the floor
The state is derived from two facts observed every frame — is the user speaking, is the agent
audible — plus whether the agent is holding a paused reply, so it can never drift from the audio.
"""

from __future__ import annotations

from enum import Enum

from parley.events import EventLog, FloorChange


class FloorState(str, Enum):
    IDLE = "idle"
    USER = "user"
    AGENT = "agent"
    OVERLAP = "overlap"


class Floor:
    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.state = FloorState.IDLE

    def update(self, t: float, *, user_speaking: bool, agent_audible: bool, agent_holding: bool) -> FloorState:
        """`agent_holding`: a reply is paused by an unresolved overlap."""
        if agent_holding or (user_speaking and agent_audible):
            new = FloorState.OVERLAP
        elif agent_audible:
            new = FloorState.AGENT
        elif user_speaking:
            new = FloorState.USER
        else:
            new = FloorState.IDLE
        if new is not self.state:
            cause = _CAUSES.get((self.state, new), "")
            self.log.emit(FloorChange, t=t, state=new.value, previous=self.state.value, cause=cause)
            self.state = new
        return new


_CAUSES = {
    (FloorState.IDLE, FloorState.USER): "user_speech",
    (FloorState.USER, FloorState.IDLE): "user_pause",
    (FloorState.IDLE, FloorState.AGENT): "agent_reply",
    (FloorState.USER, FloorState.AGENT): "agent_reply",
    (FloorState.AGENT, FloorState.IDLE): "agent_done",
    (FloorState.AGENT, FloorState.OVERLAP): "user_over_agent",
    (FloorState.OVERLAP, FloorState.AGENT): "backchannel_resume",
    (FloorState.OVERLAP, FloorState.USER): "barge_in",
    (FloorState.OVERLAP, FloorState.IDLE): "overlap_end",
    (FloorState.AGENT, FloorState.USER): "barge_in",
}
