"""One rebuild operation from start to end, the same for the language server, the CLI and the tests.

`run_operation` decides everything before it runs anything: which system (target.py), which backend
(choose.py, reported in the outcome), how to gain root (elevation.py: when there is no way, it answers at once
with what to do). A dry-build of inputs identical to the last good one answers from the record. Switch and
boot build first, compare the new system's packages with the running one (closure_diff.py), ask
`confirm(question)` and only then activate; rollback says what it goes back to and asks too. Every operation
is recorded (history.py) with its one log file, which holds every command the operation ran (a switch's build
and its activation), and a failure comes back with the explainer's findings.

No LSP types here: the caller passes `on_event` (progress and log lines, possibly from another thread), a
`threading.Event` that cancels, and `confirm`, which blocks until the user answers.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from ..settings import RebuildSettings
from .build_findings import snapshot
from .closure_diff import ClosureDiff, ClosureUnavailable, diff_systems
from .elevation import decide_elevation
from .fingerprint import fingerprint
from .generations import Generation, list_generations, previous, suggested
from .history import History, Record
from .model import Action, Backend, Event, Launch, Plan, Progress, Result, Target, Unsupported
from .runner import run

if TYPE_CHECKING:  # the explainer loads when a run fails
    from .explain import Finding

log = logging.getLogger(__name__)

CURRENT_SYSTEM = "/run/current-system"
STATUSES = ("ok", "failed", "cancelled", "timed-out", "declined", "needs-root", "unsupported", "error")


@attrs.frozen
class Request:
    """What the user asked for. Unset fields come from the settings, then from detection."""

    action: Action
    flake: str | None = None
    host: str | None = None
    file: str | None = None  # a channel-style configuration.nix
    target_host: str | None = None
    build_host: str | None = None
    generation: int | None = None  # rollback to this one rather than the previous
    workspace: str | None = None  # the workspace folder: where a flake or configuration.nix is looked for
    backend: str = "auto"  # auto, module, cli or nix
    nixpkgs: str | None = None  # `-I nixpkgs=` for a channel-style target; None: NIX_PATH decides
    nix_flags: tuple[str, ...] = ()


@attrs.frozen
class Machine:
    """What the operation meets on this machine; tests point these elsewhere."""

    is_root: bool | None = None  # None: the effective user id decides
    current_system: str = attrs.Factory(lambda: os.environ.get("NIX_HUMANITY_CURRENT_SYSTEM") or CURRENT_SYSTEM)
    profile_dir: Path | None = None  # None: generations.profile_dir()
    tools_path: str | None = None  # where sudo/run0/pkexec are looked for; None: $PATH
    history: History = attrs.Factory(History)


@attrs.frozen
class OperationOutcome:
    status: str = attrs.field(validator=attrs.validators.in_(STATUSES))
    action: Action
    summary: str
    backend: str | None = None
    backend_reason: str | None = None
    target: str | None = None
    duration: float = 0.0
    store_path: str | None = None
    log_file: str | None = None  # the operation's log: every command it ran, in order; None when nothing ran
    findings: tuple[Finding, ...] = ()
    changes: ClosureDiff | None = None
    skipped_from: Record | None = None  # the earlier run a skipped dry-build answered from
    generations: tuple[Generation, ...] = ()
    suggested: Generation | None = None
    result: Result | None = None  # the last run's own result; None when nothing ran
    entry_file: str | None = None  # the configuration's entry file (configuration.nix or flake.nix)
    sources: Mapping[str, bytes] = attrs.field(factory=dict)  # the configuration's files as the build read them

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, object]:
        return {
            "status": self.status, "action": self.action.value, "summary": self.summary, "backend": self.backend,
            "backendReason": self.backend_reason, "target": self.target, "duration": round(self.duration, 3),
            "storePath": self.store_path, "logFile": self.log_file,
            "findings": len(self.findings), "changes": self.changes.to_json() if self.changes else None,
            "skippedFrom": self.skipped_from.when() if self.skipped_from else None,
            "generations": [g.to_json() for g in self.generations],
            "suggested": self.suggested.id if self.suggested else None,
        }


Confirm = Callable[[str], bool]


class _Stop(Exception):
    """Ends an operation early with this outcome."""

    def __init__(self, outcome: OperationOutcome) -> None:
        super().__init__(outcome.summary)
        self.outcome = outcome


def run_operation(request: Request, settings: RebuildSettings, on_event: Callable[[Event], None],
                  cancel: threading.Event, confirm: Confirm, machine: Machine | None = None,
                  style: str = "friendly") -> OperationOutcome:
    """Run one operation to its end; never raises for what goes wrong in it (the outcome says)."""
    machine = machine if machine is not None else Machine()
    started = time.monotonic()
    operation = _Operation(request, settings, on_event, cancel, confirm, machine, style)
    try:
        outcome = operation.run()
    except _Stop as stop:
        outcome = stop.outcome
    except Exception as error:  # a bug must come back as an answer, not take the server down
        log.exception("the %s operation failed", request.action.value)
        outcome = OperationOutcome("error", request.action, f"{request.action.value} failed: {error}")
    outcome = attrs.evolve(outcome, duration=time.monotonic() - started, log_file=outcome.log_file or operation.log)
    if request.action is not Action.LIST_GENERATIONS:  # a look at the profile, not an operation on the system
        machine.history.append(Record(
            action=request.action.value, status=outcome.status, backend=outcome.backend, summary=outcome.summary,
            duration=outcome.duration, started=time.time() - outcome.duration, target=outcome.target,
            store_path=outcome.store_path, log_file=outcome.log_file,
            fingerprint=None if outcome.skipped_from else operation.fingerprint,  # the run it answered from stays
        ))
    return outcome


class _Operation:
    def __init__(self, request: Request, settings: RebuildSettings, on_event: Callable[[Event], None],
                 cancel: threading.Event, confirm: Confirm, machine: Machine, style: str) -> None:
        self.request, self.settings, self.on_event, self.cancel = request, settings, on_event, cancel
        self.confirm, self.machine, self.style = confirm, machine, style
        self.action = request.action
        self.log: str | None = None  # made by the first command run; the later ones append to it
        self.fingerprint: str | None = None
        self.target: Target | None = None
        self.sources: Mapping[str, bytes] = {}
        self.backend: Backend | None = None
        self.reason: str | None = None
        self.by_generation = False  # the backend cannot roll back to a chosen generation: nix-env does it

    # -- the steps ---------------------------------------------------------------------------------------------

    def run(self) -> OperationOutcome:
        if self.action is Action.LIST_GENERATIONS:
            return self._generations()
        self.target = self._target()
        self.sources = snapshot(self.target.files)
        elevation = decide_elevation(self.action, self.settings.elevation, is_root=self.machine.is_root,
                                     path=self.machine.tools_path, target_host=self.target.target_host)
        if elevation.problem:
            raise _Stop(self._outcome("needs-root", elevation.problem))
        self.backend, self.reason = self._backend()
        if self.action is Action.DRY_BUILD:
            self.fingerprint = fingerprint(self.target)
            done = self.machine.history.last_success(Action.DRY_BUILD.value, self.fingerprint) if self.fingerprint else None
            if done is not None:
                return self._outcome("ok", f"Nothing changed since the dry-build of {done.when()}, which succeeded "
                                     f"({done.summary}); not run again.", skipped_from=done, log_file=done.log_file)
        plan = Plan(self.action, self.target, generation=self.request.generation, elevate=elevation.prefix,
                    nix_flags=self.request.nix_flags)
        self._check(plan)
        if self.action in (Action.SWITCH, Action.BOOT) and self.settings.confirm_switch:
            return self._build_then_activate(plan)
        if self.action is Action.ROLLBACK:
            return self._rollback(plan)
        return self._finish(self._run(plan))

    def _check(self, plan: Plan) -> None:
        """Refuse before anything runs what the backend cannot do (not after a build and a question)."""
        assert self.backend is not None
        try:
            self.backend.launch(plan)
        except Unsupported as problem:
            if not self._switches_generation(plan):
                raise _Stop(self._outcome("unsupported", str(problem))) from problem
            self.by_generation = True

    def _switches_generation(self, plan: Plan) -> bool:
        """A chosen generation on this machine can be switched to without the backend's help."""
        return plan.action is Action.ROLLBACK and plan.generation is not None and not plan.target.target_host

    def _build_then_activate(self, plan: Plan) -> OperationOutcome:
        before = fingerprint(self.target) if self.target else None
        built = self._run(attrs.evolve(plan, action=Action.BUILD, elevate=()))
        if not built.ok:
            return self._finish(built)
        if not built.store_path:
            return self._outcome("failed", f"{built.summary} The build named no system, so nothing was activated.",
                                 result=built)
        changes, compared = self._compare(built.store_path)
        verb = "Switch to" if self.action is Action.SWITCH else "Make the boot default"
        question = f"{verb} the new system ({self.target.describe()})? {compared}"
        if not self._ask(question):
            return self._outcome("declined", f"Not activated: you said no. The new system is built at "
                                 f"{built.store_path}. {compared}", store_path=built.store_path, changes=changes)
        if before is not None and fingerprint(self.target) != before:
            return self._outcome("failed", "The configuration changed while the question was open, so what was "
                                 "built is not what the files say now. Nothing was activated; run it again.",
                                 store_path=built.store_path, changes=changes)
        result = self._run(plan)
        return self._finish(result, changes=changes, store_path=built.store_path if result.ok else None)

    def _rollback(self, plan: Plan) -> OperationOutcome:
        generations = list_generations(self.machine.profile_dir, switched=self.machine.history.switched())
        wanted = self.request.generation
        goal = (next((g for g in generations if g.id == wanted), None) if wanted is not None
                else previous(generations))
        if self.target is not None and self.target.target_host:
            goal = None  # the generations are on the other machine: nothing to compare here
        elif goal is None:
            which = f"generation {wanted}" if wanted is not None else "older generation"
            known = ", ".join(str(g.id) for g in generations) or "none"
            raise _Stop(self._outcome("failed", f"There is no {which} to roll back to (generations here: {known})."))
        elif goal.current:
            raise _Stop(self._outcome("failed", f"Generation {goal.id} is the current one already."))
        changes, compared = (self._compare(goal.store_path) if goal and goal.store_path else (None, ""))
        if self.settings.confirm_switch:
            name = f"generation {goal.id} ({goal.when()}, NixOS {goal.nixos_version or 'unknown'})" if goal else \
                "the previous generation"
            if not self._ask(f"Roll back to {name}? {compared}".strip()):
                return self._outcome("declined", "Not rolled back: you said no.", changes=changes)
        result = self._switch_generation(plan) if self.by_generation else self._run(plan)
        return self._finish(result, changes=changes, store_path=goal.store_path if goal and result.ok else None)

    def _generations(self) -> OperationOutcome:
        generations = list_generations(self.machine.profile_dir, switched=self.machine.history.switched())
        pick = suggested(generations)
        current = next((g for g in generations if g.current), None)
        summary = (f"{len(generations)} generation{'' if len(generations) == 1 else 's'}; current: {current.id if current else 'unknown'}"
                   + (f"; suggested to go back to: {pick.id} ({pick.when()})" if pick else "") + ".")
        if not generations:
            summary = f"No system generations in {self.machine.profile_dir or 'the system profile directory'}."
        return self._outcome("ok", summary, generations=tuple(generations), suggested=pick)

    # -- helpers -----------------------------------------------------------------------------------------------

    def _target(self) -> Target:
        from .target import detect_target

        r, s = self.request, self.settings
        return detect_target(r.file, r.workspace, flake=r.flake or s.flake,
                             host=r.host or s.host, target_host=r.target_host or s.target_host,
                             build_host=r.build_host or s.build_host, nixpkgs=r.nixpkgs)

    def _backend(self) -> tuple[Backend, str]:
        from .choose import BackendProblem, choose_backend

        try:
            return choose_backend(self.action, python_backend=self.settings.python_backend.value,
                                  installation=self.settings.installation, prefer=self.request.backend)
        except (BackendProblem, Unsupported) as problem:
            raise _Stop(self._outcome("unsupported", str(problem))) from problem

    def _run(self, plan: Plan) -> Result:
        assert self.backend is not None
        try:
            launch = self.backend.launch(plan)
        except Unsupported as problem:
            raise _Stop(self._outcome("unsupported", str(problem))) from problem
        return self._run_launch(launch, plan.action)

    def _run_launch(self, launch: Launch, action: Action) -> Result:
        if self.log is None:
            self.log = str(self.machine.history.new_log(self.action.value))
        return run(launch, action, self.on_event, self.cancel, self.settings.timeout, self.log)

    def _switch_generation(self, plan: Plan) -> Result:
        """`nix-env -p <profile> --switch-generation N`, then the generation's own `switch-to-configuration
        switch`: what nixos-rebuild does for a rollback, aimed at the chosen generation."""
        from .generations import profile_dir

        profile = (self.machine.profile_dir or profile_dir()) / "system"
        steps = (
            (f"nix-env --switch-generation {plan.generation}",
             (*plan.elevate, "nix-env", "-p", str(profile), "--switch-generation", str(plan.generation))),
            ("switch-to-configuration switch", (*plan.elevate, str(profile / "bin" / "switch-to-configuration"), "switch")),
        )
        self.reason = f"{self.reason}; the chosen generation is switched to with nix-env and switch-to-configuration"
        result: Result | None = None
        for what, argv in steps:
            result = self._run_launch(Launch(what.split()[0], argv, json_log=False), plan.action)
            if not result.ok:
                break
        assert result is not None
        return result

    def _compare(self, new: str) -> tuple[ClosureDiff | None, str]:
        """The package changes from the running system to `new`, and the sentence that says them."""
        self.on_event(Progress("comparing the new system with the running one"))
        current = self.machine.current_system
        if not os.path.exists(current):
            return None, f"(There is no running system at {current} to compare with.)"
        try:
            changes = diff_systems(current, new)
        except ClosureUnavailable as problem:
            return None, f"(What changes could not be worked out: {problem}.)"
        return changes, changes.summary()

    def _ask(self, question: str) -> bool:
        self.on_event(Progress("waiting for your answer"))
        if self.cancel.is_set():
            return False
        return bool(self.confirm(question)) and not self.cancel.is_set()

    def _finish(self, result: Result, summary: str | None = None, changes: ClosureDiff | None = None,
                store_path: str | None = None) -> OperationOutcome:
        if result.cancelled:
            status = "cancelled"
        elif result.timed_out:
            status = "timed-out"
        else:
            status = "ok" if result.ok else "failed"
        findings: tuple[Finding, ...] = ()
        if status == "failed":
            findings = self._explain(result.stderr)
        store = store_path or result.store_path
        if result.ok and store is None and self.action in (Action.SWITCH, Action.BOOT, Action.ROLLBACK):
            store = self._profile_target()
        text = summary or result.summary
        if findings:
            text += f" {len(findings)} problem{'s' if len(findings) != 1 else ''} found: {findings[0].title}."
        return self._outcome(status, text, store_path=store, findings=findings, changes=changes, result=result)

    def _explain(self, stderr: str) -> tuple[Finding, ...]:
        from .explain import explain_result

        entry = self._entry_file()
        return explain_result(stderr, [entry] if entry else [], self.style, sources=self.sources).findings

    def _entry_file(self) -> str | None:
        if self.target is None:
            return None
        if self.target.config_file:
            return self.target.config_file
        flake = os.path.join((self.target.flake or "").removeprefix("path:"), "flake.nix")
        return flake if os.path.isfile(flake) else (self.target.files[0] if self.target.files else None)

    def _profile_target(self) -> str | None:
        """After a local switch, boot or rollback the system profile names the system now in force."""
        if self.target is not None and self.target.target_host:
            return None
        from .generations import profile_dir

        link = (self.machine.profile_dir or profile_dir()) / "system"
        return os.path.realpath(link) if os.path.islink(link) else None

    def _outcome(self, status: str, summary: str, **fields: object) -> OperationOutcome:
        return OperationOutcome(
            status, self.action, summary, backend=getattr(self.backend, "name", None), backend_reason=self.reason,
            target=self.target.describe() if self.target else None, entry_file=self._entry_file(),
            sources=self.sources, **fields,  # type: ignore[arg-type]
        )
