"""Provides OutmailApp: the console that edits one tenant's Outgoing Email settings and saves them back."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen

from tui.console.keytext import ConsoleBinding, fill_tooltips, keys

from tui.settings.fields import FIELDS
from tui.settings.model import Settings
from tui.settings.store import (
    SettingsConflictError,
    SettingsFile,
    SettingsFileError,
    changed_attrs,
    open_settings_file,
    save_settings,
)
from tui.console.keys import KeyPacer
from tui.console.messages import SettingsEdited, SettingsLoaded, SettingsSaved, SaveFailed
from tui.console.settings_screen import DIAGNOSTICS_PANE, SETTINGS_PANE, KeysFooter, MainScreen, StatusLine

if TYPE_CHECKING:
    from tui.console.form import SettingsForm

# Test-only hook: "handler" or "worker" makes the app crash while a local holds the client secret, so the crash
# tests can prove that the crash report never prints it (tests/console/test_crash.py). Unset in normal use.
TEST_CRASH_ENV = "OUTMAIL_TEST_CRASH"

# Actions that exist in `outmail demo` only (app.demo set): hidden from the footer, F1 and the palette otherwise.
DEMO_ACTIONS = frozenset({"sandbox"})


def demo_only(action: str) -> bool:
    """Whether `action` (`"sandbox('mailbox')"` too) exists in `outmail demo` only."""
    return action.split("(", 1)[0] in DEMO_ACTIONS


def _outmail_commands() -> Any:
    """The palette provider, imported when the palette first opens (not at start-up)."""
    from tui.console.commands import OutmailCommands

    return OutmailCommands


def _dialogs() -> Any:
    """The dialogs module, imported when a dialog is first needed (not at start-up)."""
    from tui.console import dialogs

    return dialogs


class OutmailApp(App[None], inherit_bindings=False):
    """One settings file, one tenant at a time. The app owns the state; MainScreen shows it."""

    CSS_PATH = "app.tcss"
    TITLE = "outmail"
    COMMANDS = App.COMMANDS | {_outmail_commands}

    # Every action of the console, declared once: key(s), footer/F1 description, tooltip (F1, the palette's help),
    # the palette's title (`palette`; tui/console/commands.py). Strings that name a key read it from here
    # (tui/console/keytext.py), so a rebinding (the keymap, by id) changes them too.
    BINDINGS: ClassVar[list[BindingType]] = fill_tooltips([
        ConsoleBinding("f1", "help", "Help", id="help", key_display="F1", tooltip="Every key and every field's help.",
                       palette="Help: keys and fields"),
        ConsoleBinding("ctrl+s", "save", "Save", id="save",
                       tooltip="Write the changed values to the settings file; comments and other lines stay.",
                       palette="Save settings"),
        ConsoleBinding("f5", "diagnose", "Diagnose", id="diagnose", key_display="F5",
                       tooltip="Prove the settings on screen step by step (token, connect, EHLO, STARTTLS, AUTH, "
                               "envelope).",
                       palette="Diagnose the settings"),
        # shift+F5 is xterm's ESC [15;2~ (tmux sends it too).
        ConsoleBinding("shift+f5", "diagnose(True)", "Diagnose with a new token", show=False, id="diagnose_fresh",
                       key_display="shift+F5",
                       tooltip="As {diagnose}, but ask Entra ID for a new token instead of the cached one (after a "
                               "change of permissions, roles or consent).",
                       palette="Diagnose with a new token"),
        # One palette entry for both keys: it names "ctrl+t or F6".
        ConsoleBinding("ctrl+t", "test_send", "Test send", id="test_send", tooltip="Send a test message.",
                       palette="Send a test message"),
        Binding("f6", "test_send", "Test send", show=False, id="test_send_f6", key_display="F6",
                tooltip="Send a test message."),
        ConsoleBinding("ctrl+r", "reveal_secrets", "Reveal", show=False, id="reveal",
                       tooltip="Show or hide the client secret and the password.", palette="Reveal or hide secrets"),
        ConsoleBinding("f3", "switch_tenant", "Tenant", show=False, id="tenant", key_display="F3",
                       tooltip="Switch to another tenant of the file.", palette="Switch tenant"),
        # outmail demo only (DEMO_ACTIONS: check_action, F1 and the palette leave them out otherwise):
        # tui/console/sandbox_panel.py.
        ConsoleBinding("f7", "sandbox", "Sandbox", id="sandbox", key_display="F7",
                       tooltip="outmail demo: switch the sandbox's fault and read the sandbox mailbox.",
                       palette="Sandbox: switch the fault"),
        ConsoleBinding("f8", "sandbox('mailbox')", "Mailbox", show=False, id="sandbox_mailbox", key_display="F8",
                       tooltip="outmail demo: the messages the sandbox received, newest first.",
                       palette="Sandbox: show the mailbox"),
        # LogicalDOC's context.properties: tui/console/bridge_dialogs.py (a diff to confirm before anything is written).
        ConsoleBinding("f4", "import_properties", "Import", show=False, id="import", key_display="F4",
                       tooltip="Read this tenant's Outgoing Email keys from LogicalDOC's context.properties into the "
                               "settings file (diff first), then reload the form.",
                       palette="Import from LogicalDOC's context.properties"),
        ConsoleBinding("f9", "export_properties", "Export", show=False, id="export", key_display="F9",
                       tooltip="Write the settings on screen into LogicalDOC's context.properties (diff first, "
                               "backup kept).",
                       palette="Export to LogicalDOC's context.properties"),
        # Not in the footer (no room at 80 columns): F1 and the palette name it. tui/console/explain_dialog.py.
        ConsoleBinding("f10", "explain", "Explain an error", show=False, id="explain", key_display="F10",
                       tooltip="Paste error text (a LogicalDOC log excerpt, an SMTP reply, an AADSTS error, a bounce) "
                               "and get the diagnostics' cause, setup step and fix for each error, with the line it "
                               "matched.",
                       palette="Explain an error"),
        # Not in the footer either: F1 and the palette name it. tui/console/guide_screen.py.
        ConsoleBinding("f12", "guide", "Setup guide", show=False, id="guide", key_display="F12",
                       tooltip="The Microsoft 365 setup steps as a checklist, each proven, failed or not known from "
                               "the last run ({diagnose}) and a pasted verification, with the PowerShell filled in; "
                               "the setup and verification scripts.",
                       palette="Setup guide"),
        ConsoleBinding("ctrl+q", "quit", "Quit", priority=True, id="quit",
                       tooltip="Quit; asks Save / Discard / Cancel when there are unsaved changes.", palette="Quit"),
        # The palette's "Keys" panel (Textual's HelpPanel) has no key of its own to close it.
        Binding("escape", "hide_help_panel", "Close the palette's Keys panel", show=False, id="hide_keys"),
        # Not inherited from App (so the footer keeps this order): Textual's ctrl+c hint "press ctrl+q to quit".
        Binding("ctrl+c", "help_quit", show=False, system=True),
    ])

    def __init__(
        self,
        settings_file: SettingsFile,
        settings: Settings,
        *,
        pick_tenant: bool = False,
        demo: object = None,
        theme: str | None = None,
    ) -> None:
        super().__init__()
        self.settings_file = settings_file
        self.loaded_settings = settings
        self.current_settings = settings
        self.problems: list[Any] = []
        self.demo = demo
        self.secrets_revealed = False
        self.last_test_recipients = ""  # the test-send dialog's To, remembered while the console runs
        self.last_properties_path = ""  # Import/Export's context.properties, remembered while the console runs
        # The setup guide's evidence, kept while the console runs.
        self.last_run: Any = None  # tui.guide.LastRun: the last finished run or test send (record_run)
        self.last_run_tenant: str | None = None  # the tenant it was made for
        # What the admin chose in the setup guide (tui/console/guide_screen.py), remembered while the console runs.
        self.guide_model: str | None = None  # "classic" | "rbac", asked once
        self.guide_verification: Any = None  # the pasted verification (tui.guide.Verification)
        self.guide_from_addresses: tuple[str, ...] = ()  # From addresses beyond the Sender Email (S7)
        self._pick_tenant_on_start = pick_tenant
        self._validated = False
        self.form_ready = asyncio.Event()  # set once the editable form replaced the first frame's preview
        # Called once, when the editable, validated form has been painted (launch.py resumes garbage collection).
        self.startup_finished: Callable[[], None] | None = None
        # Every key waits its turn: typed-ahead keys reach the widget Tab moved to, early keys the form (tui.console.keys).
        self.keys = KeyPacer(self, self.form_ready)
        if theme:
            self.theme = theme

    # ------------------------------------------------------------------------------------------------ colours

    def get_css_variables(self) -> dict[str, str]:
        """The theme's variables, readable in 16 colours, with an ANSI theme and with NO_COLOR (tui/console/readable.py)."""
        from tui.console.readable import readable_variables

        variables = readable_variables(self.current_theme, super().get_css_variables(),
                                       color_system=self.console.color_system, no_color=self.no_color,
                                       ansi=self.native_ansi_color)
        self.theme_variables = variables
        return variables

    def watch_theme(self) -> None:
        from tui.console.readable import sync_no_color_filter

        sync_no_color_filter(self)

    def get_system_commands(self, screen: Any) -> Any:
        """Textual's palette commands without its own Quit, which quit without asking about unsaved changes in its
        words ("as soon as possible") beside outmail's Quit (ctrl+q)."""
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command

    # ------------------------------------------------------------------------------------------------ screens

    def get_default_screen(self) -> MainScreen:
        return MainScreen(self.loaded_settings)

    @property
    def main_screen(self) -> MainScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    @property
    def form(self) -> SettingsForm:
        return self.main_screen.form

    def main_screen_mounted(self) -> None:
        """Called by MainScreen once its widgets exist."""
        self._refresh_status()

    def on_ready(self) -> None:
        """The first frame (the form as text) has been written to the terminal (Textual's Ready): mount the editable
        form right away, on the main screen's message pump, rather than after the screen settles (that waited ~20 ms
        for the footer's and the status line's own refreshes)."""
        self.main_screen.call_next(self._after_first_paint)

    async def _after_first_paint(self) -> None:
        # The first frame shows a text preview of the form; the editable widgets (several times Textual's own
        # start-up cost) and validation (email-validator, ~30 ms to import) come right after it.
        await self.main_screen.mount_form(self.loaded_settings)
        self.form_ready.set()
        self._validate()
        self.call_after_refresh(self._form_shown)
        if not self.settings_file.exists:
            self.push_screen(_dialogs().NewFileDialog(
                f"{self.settings_file.path} does not exist yet.\n\nStart from the example settings? The file is "
                f"created when you first save ({keys(self, 'save')}); nothing is written before that."),
                self._new_file_answered)
        elif self._pick_tenant_on_start:
            self._pick_tenant("No tenant was given (--tenant) and none is named 'default'.")
        crash = os.environ.get(TEST_CRASH_ENV, "")
        if crash == "handler":
            self.call_later(self._test_crash_in_handler)
        elif crash == "worker":
            self.run_worker(self._test_crash_in_worker, thread=True, exit_on_error=True, group="test-crash")

    def _form_shown(self) -> None:
        """The editable, validated form has been painted: what start-up put off comes now, the footer's keys
        (KeysFooter.release) and garbage collection (startup_finished, launch.py)."""
        if self.screen_stack and not self._exit:
            self.main_screen.query_one(KeysFooter).release()
        if self.startup_finished is not None:
            self.startup_finished()

    # ------------------------------------------------------------------------------------------------ keys

    async def on_event(self, event: events.Event) -> None:
        if not self.keys.holds(event):
            await super().on_event(event)

    def on_unmount(self) -> None:
        self.keys.stop()

    def _new_file_answered(self, choice: str | None) -> None:
        if choice != "start":
            self.exit()

    # ------------------------------------------------------------------------------------------------ state

    # Actions on the form that make no sense while a dialog or the help is open (their keys are hidden then).
    _FORM_ACTIONS = frozenset({"diagnose", "test_send", "switch_tenant", "reveal_secrets", "show_settings",
                               "sandbox", "import_properties", "export_properties", "explain", "guide"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "hide_help_panel":
            return bool(self.screen.query("HelpPanel"))  # Esc means nothing else here
        if self.demo is None and demo_only(action):
            return False  # the sandbox panel exists in `outmail demo` only
        if action in self._FORM_ACTIONS and isinstance(self.screen, ModalScreen):
            return False
        return True

    @property
    def dirty(self) -> bool:
        """Values on screen differ from the loaded file."""
        return bool(changed_attrs(self.loaded_settings, self.current_settings))

    def on_settings_edited(self, message: SettingsEdited) -> None:
        if not self.screen_stack or self._exit:
            return  # an edit still queued while the console closes
        forms = self.main_screen.query("#form")
        if message.form is not None and (not forms or message.form is not forms.first()):
            return  # from a form that a reload or a tenant switch has replaced
        if self._validated and message.settings == self.current_settings:
            return  # a widget reported its value without a change (a Select on mount)
        self.current_settings = message.settings
        self.main_screen.clear_message()  # what an earlier action said no longer describes the values on screen
        self._validate()

    def say(self, text: str, severity: str = "information") -> None:
        """Say what an action did on the main screen's message line, above the help (MainScreen.say): it covers
        no dialog button and no fix, unlike a toast at 80x24. External text is never markup there."""
        if self.screen_stack and not self._exit:
            self.main_screen.say(text, severity)

    def sync_form(self) -> None:
        """Take the values the form shows now rather than when its change messages arrive: an action typed right
        after an edit (ctrl+s, ctrl+q or F5 just after a digit, read in one go over SSH) acts on what is on screen."""
        if not self.form_ready.is_set() or not self.screen_stack:
            return
        forms = self.main_screen.query("#form")
        if forms:
            settings = forms.first().read()  # type: ignore[attr-defined]
            if settings != self.current_settings:
                self.current_settings = settings
                self._validate()

    def _validate(self) -> None:
        from tui.settings.validate import validate

        try:
            self.problems = validate(self.current_settings)
        except Exception as exc:  # a validation bug must not end the session: show it instead
            self.problems = []
            self.say(f"Validation failed: {type(exc).__name__}", "error")
        self._validated = True
        self.form.show_problems(self.problems)
        self._refresh_status()

    def _refresh_status(self) -> None:
        errors = sum(1 for p in self.problems if p.severity == "error")
        warnings = len(self.problems) - errors
        status = self.main_screen.query_one(StatusLine)
        status.update_status(
            path=str(self.settings_file.path), tenant=self.current_settings.tenant,
            tenants=self.settings_file.tenants, dirty=self.dirty, exists=self.settings_file.exists,
            errors=errors, warnings=warnings)
        if not self._validated:
            status.show_checking()

    # ------------------------------------------------------------------------------------------------ save

    def _unwritable(self) -> str | None:
        """Why the on-screen values cannot be written with their types (an empty Port), else None."""
        for field in FIELDS:
            value = getattr(self.current_settings, field.attr)
            if field.kind in ("int", "float") and (value is None or isinstance(value, bool)):
                return f"{field.label} must be a number"
        return None

    def action_save(self) -> None:
        self.sync_form()
        if self.form_ready.is_set():
            self._save()

    def _save(self, *, overwrite: bool = False, then: Callable[[], Any] | None = None) -> None:
        path = self.settings_file.path
        reason = self._unwritable()
        if reason:
            self.say(f"Not saved: {reason}", "error")
            self.post_message(SaveFailed(path, reason))
            return
        if self.settings_file.exists and not self.dirty and not overwrite:
            self.say("Nothing to save: no changes")
            if then:
                then()
            return
        try:
            new_file, saved = save_settings(self.settings_file, self.loaded_settings, self.current_settings,
                                            overwrite=overwrite)
        except SettingsConflictError:
            self.push_screen(_dialogs().ConflictDialog(
                f"{path} was changed on disk since outmail loaded it.\n\n"
                "Reload: load the file from disk; your edits here are dropped.\n"
                "Overwrite: write your version; the changes on disk are lost.\n"
                "Cancel: keep editing; nothing is written."),
                lambda choice: self._conflict_answered(choice, then))
            return
        except Exception as exc:  # the handler boundary: report, never crash (the message never holds values)
            if isinstance(exc, OSError) and exc.strerror:
                reason = exc.strerror
            elif isinstance(exc, SettingsFileError):
                reason = str(exc)
            else:
                reason = f"unexpected {type(exc).__name__}"
            text = f"Could not save {path}: {reason}"
            self.post_message(SaveFailed(path, text))
            self.push_screen(_dialogs().ErrorDialog(text + "\n\nNothing was written; your edits are still on screen."))
            return
        self.settings_file = new_file
        self.loaded_settings = saved
        form = self.form
        form.base = saved
        self.current_settings = form.read()
        errors = sum(1 for p in self.problems if p.severity == "error")
        if errors:
            self.say(f"Saved {path} with {errors} error{'s' if errors != 1 else ''} still to fix", "warning")
        else:
            self.say(f"✔ Saved {path}")
        self.post_message(SettingsSaved(path, saved.tenant, errors))
        self._refresh_status()
        if then:
            then()

    def _conflict_answered(self, choice: str | None, then: Callable[[], Any] | None) -> None:
        if choice == "reload":
            self.call_later(self._reload, None)
        elif choice == "overwrite":
            self._save(overwrite=True, then=then)

    async def _reload(self, tenant: str | None = None, said: str | None = None) -> None:
        """Load the file again (after a conflict, an import, or for another tenant); a file that cannot be used is
        reported. `said`: the message once loaded (default: `Loaded <path>, tenant <name>`)."""
        path = self.settings_file.path
        try:
            new_file, settings = open_settings_file(path, tenant or self.current_settings.tenant)
        except SettingsFileError as exc:
            self.push_screen(_dialogs().ErrorDialog(f"Cannot load {exc}\n\nThe form keeps what it showed; nothing was written."))
            return
        self.settings_file = new_file
        self.loaded_settings = settings
        self.current_settings = settings
        form = await self.main_screen.mount_form(settings)
        form.set_revealed(self.secrets_revealed)
        self._validate()
        self.post_message(SettingsLoaded(path, settings.tenant))
        self.say(said or f"Loaded {path}, tenant {settings.tenant}")

    # ------------------------------------------------------------------------------------------------ actions

    async def action_quit(self) -> None:
        self.sync_form()
        if isinstance(self.screen, _dialogs().QuitDialog):
            return
        if not self.dirty:
            self.exit()
            return
        self.push_screen(_dialogs().QuitDialog(
            f"{self.settings_file.path} has unsaved changes.\n\n"
            "Save: write them, then quit.  Discard: quit without saving.  Cancel: keep editing."),
            self._quit_answered)

    def _quit_answered(self, choice: str | None) -> None:
        if choice == "save":
            self._save(then=self.exit)
        elif choice == "discard":
            self.exit()

    def action_help(self) -> None:
        from tui.console.help_screen import HelpScreen, help_groups

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(help_groups(self, demo=self.demo is not None)))

    def action_reveal_secrets(self) -> None:
        if not self.form_ready.is_set():
            return
        self.secrets_revealed = not self.secrets_revealed
        self.form.set_revealed(self.secrets_revealed)
        self.say(f"Secrets shown ({keys(self, 'reveal_secrets')} hides them)" if self.secrets_revealed
                 else "Secrets hidden")

    def action_switch_tenant(self) -> None:
        self.sync_form()
        if self.form_ready.is_set():
            self._pick_tenant()

    def _pick_tenant(self, reason: str = "") -> None:
        tenants = self.settings_file.tenants
        if len(tenants) < 2:
            self.say(f"This file holds one tenant: {self.current_settings.tenant}")
            return
        self.push_screen(_dialogs().TenantPickerDialog(tenants, self.current_settings.tenant, reason), self._tenant_picked)

    def _tenant_picked(self, name: str | None) -> None:
        if not name or name == self.current_settings.tenant:
            return
        if not self.dirty:
            self.call_later(self._reload, name)
            return

        def answered(choice: str | None) -> None:
            if choice == "save":
                self._save(then=lambda: self.call_later(self._reload, name))
            elif choice == "discard":
                self.call_later(self._reload, name)

        self.push_screen(_dialogs().SwitchTenantDialog(
            f"Tenant {self.current_settings.tenant} has unsaved changes.\n\n"
            f"Save: write them, then open {name}.  Discard: open {name} without saving.  Cancel: stay."), answered)

    def action_show_settings(self) -> None:
        self.main_screen.show_pane(SETTINGS_PANE)
        if self.form_ready.is_set():
            self.main_screen.query_one("#f-protocol").focus()

    def action_diagnose(self, fresh_token: bool = False) -> None:
        """Show the diagnostics pane and run it on the settings on screen (tui/console/diagnostics_pane.py, mounted on
        the first run); `fresh_token` (shift+F5, the pane's n): the run asks Entra ID for a new token instead of the
        cached one."""
        from tui.console.diagnostics_pane import DiagnosticsPane

        self.sync_form()
        screen = self.main_screen
        screen.show_pane(DIAGNOSTICS_PANE)
        container = screen.query_one(f"#{DIAGNOSTICS_PANE}")
        settings = self.current_settings
        panes = container.query(DiagnosticsPane)
        if panes:
            self.call_after_refresh(panes.first().run_diagnostics, settings, fresh_token=fresh_token)
            return
        pane = DiagnosticsPane()
        mounting = container.mount(pane)

        async def run_once_mounted() -> None:
            await mounting  # its widgets composed: the run's first event has somewhere to go
            self.call_after_refresh(pane.run_diagnostics, settings, fresh_token=fresh_token)

        self.call_next(run_once_mounted)

    def action_import_properties(self) -> None:
        """F4: LogicalDOC's context.properties into the settings file, then the form (tui/console/bridge_dialogs.py)."""
        self.sync_form()
        if self.form_ready.is_set() and not isinstance(self.screen, ModalScreen):
            from tui.console.bridge_dialogs import BridgeFlow

            BridgeFlow(self, "import").start()

    def action_export_properties(self) -> None:
        """F9: the settings on screen into LogicalDOC's context.properties (tui/console/bridge_dialogs.py)."""
        self.sync_form()
        if self.form_ready.is_set() and not isinstance(self.screen, ModalScreen):
            from tui.console.bridge_dialogs import BridgeFlow

            BridgeFlow(self, "export").start()

    def action_sandbox(self, focus: str = "faults") -> None:
        """outmail demo: the sandbox panel (faults, mailbox) of tui/console/sandbox_panel.py."""
        if self.demo is None or isinstance(self.screen, ModalScreen):
            return
        from tui.console.sandbox_panel import SandboxPanel

        self.push_screen(SandboxPanel(self.demo, focus), self._sandbox_closed)

    def _sandbox_closed(self, chosen: tuple[str, bool] | None) -> None:
        """The panel chose a fault: run the diagnostics if asked (its F5), then say which fault is on."""
        if chosen is None:
            return
        said, run = chosen
        if run:
            self.action_diagnose()
        self.say(said)

    def action_explain(self) -> None:
        """F10: the Explain dialog (tui/console/explain_dialog.py) on the settings on screen, which fill the fixes."""
        self.sync_form()
        if not isinstance(self.screen, ModalScreen):
            from tui.console.explain_dialog import ExplainDialog

            self.push_screen(ExplainDialog(self.current_settings))

    def action_guide(self) -> None:
        """F12: the setup guide (tui/console/guide_screen.py) for the settings on screen, from the last run."""
        self.sync_form()
        if isinstance(self.screen, ModalScreen) or not self.form_ready.is_set():
            return
        from tui.console.guide_screen import GuideScreen

        if not isinstance(self.screen, GuideScreen):
            self.push_screen(GuideScreen())

    def record_run(self, report: Any) -> None:
        """A diagnostics run (the pane) or a test send finished with a report: the setup guide's evidence, with the
        time it ended (the Report has no wall-clock time of its own)."""
        import time

        from tui.guide import LastRun

        self.last_run = LastRun(report, time.time())
        self.last_run_tenant = self.current_settings.tenant

    def action_test_send(self) -> None:
        """Open the test-send dialog on the settings on screen (tui/console/send_dialog.py)."""
        from tui.console.send_dialog import SendDialog

        self.sync_form()
        if not isinstance(self.screen, ModalScreen):
            self.push_screen(SendDialog(self.current_settings))

    # ------------------------------------------------------------------------------------------------ files

    def lasting_folder(self) -> tuple[Path, str]:
        """(folder, why it is not next to the settings file) for a saved report or screenshot: next to the settings
        file, except in `outmail demo` where that folder is the sandbox's own, removed when the demo ends: then the
        folder the demo was started from (or the home folder)."""
        folder = Path(self.settings_file.path).expanduser().resolve().parent
        sandbox_settings = getattr(getattr(self.demo, "info", None), "settings_path", None)
        if sandbox_settings and Path(sandbox_settings).expanduser().resolve().parent == folder:
            for candidate in (Path.cwd(), Path.home()):
                with contextlib.suppress(OSError):
                    if candidate.resolve() != folder and os.access(candidate, os.W_OK | os.X_OK):
                        return candidate.resolve(), "the demo's folder is removed when it ends"
        return folder, ""

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """The palette's Screenshot: an SVG of the screen in the Downloads folder when there is one (most servers have
        none), else where reports go (`lasting_folder`); readable by you only (a revealed secret may be on it). The
        message line says where, or why not."""
        from platformdirs import user_downloads_path
        from textual._files import generate_datetime_filename

        folder, why = (Path(path).expanduser(), "") if path else (user_downloads_path(), "")
        if not path and not folder.is_dir():
            downloads = str(folder)
            with contextlib.suppress(ValueError):
                downloads = f"~/{folder.relative_to(Path.home())}"
            folder, why = self.lasting_folder()
            why = f"no {downloads} here" + (f"; {why}" if why else "")
        target = folder / (filename or generate_datetime_filename(self.title, ".svg", time_format))
        from tui.files import PRIVATE_MODE, atomic_write

        try:  # 0600 from the first byte, whole or not at all, never over another file
            atomic_write(target, self.export_screenshot(), mode=PRIVATE_MODE, exclusive=True)
        except OSError as exc:
            self.say(f"Could not save the screenshot to {target}: {exc.strerror or type(exc).__name__}", "error")
            return None
        self.say(f"✔ Saved a screenshot to {target}" + (f" ({why})" if why else ""))
        return str(target)

    # ------------------------------------------------------------------------------------------------ crashes

    def _fatal_error(self) -> None:
        """Report a crash without frame locals, which can hold secrets (mirrors textual 8.2.8, show_locals off)."""
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(Segments(self.console.render(traceback, self.console.options)))
        self._close_messages_no_wait()

    def _test_crash_in_handler(self) -> None:
        client_secret = self.current_settings.client_secret.reveal()  # the local the crash report must not show
        raise RuntimeError(f"test crash in a handler ({TEST_CRASH_ENV}); secret length {len(client_secret)}")

    def _test_crash_in_worker(self) -> None:
        client_secret = self.current_settings.client_secret.reveal()  # the local the crash report must not show
        raise RuntimeError(f"test crash in a worker ({TEST_CRASH_ENV}); secret length {len(client_secret)}")

