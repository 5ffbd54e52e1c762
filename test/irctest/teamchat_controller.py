"""irctest controller for teamchat's IRC gateway (`teamchat serve --irc-port`).

Loaded by irctest with `--controller teamchat_controller` (this folder on PYTHONPATH); see
test/irctest/run.sh. Each test gets a fresh server with a fresh embedded database.
"""

import os
from pathlib import Path
import shutil
import signal
import time
from typing import Optional, Set, Type

from irctest import cases
from irctest.basecontrollers import BaseServerController, DirectoryBasedController
from irctest.runner import NotImplementedByController
from irctest.specifications import Capabilities, OptionalBehaviors

REPO_ROOT = Path(__file__).resolve().parents[2]
TEAMCHAT_BIN = REPO_ROOT / "bin" / "teamchat"


class TeamchatController(BaseServerController, DirectoryBasedController):
    software_name = "teamchat"
    _port_wait_interval = 0.05
    supported_sasl_mechanisms: Set[str] = {"PLAIN"}
    supports_sts = False
    nickserv = "NickServ"

    capabilities = frozenset(
        (
            Capabilities.AWAY_NOTIFY,
            Capabilities.BATCH,
            Capabilities.ECHO_MESSAGE,
            Capabilities.LABELED_RESPONSE,
            Capabilities.MESSAGE_TAGS,
            Capabilities.MULTI_PREFIX,
            Capabilities.SERVER_TIME,
        )
    )

    optional_behaviors = frozenset(
        (
            OptionalBehaviors.CAP_REQ_MINUS,
            OptionalBehaviors.MULTI_JOIN,
            OptionalBehaviors.MULTI_PRIVMSG,
        )
    )

    isupport = {
        "CASEMAPPING": "ascii",
        "PREFIX": "(ov)@+",
        "UTF8ONLY": None,
        "MSGREFTYPES": "msgid,timestamp",
    }

    def run(
        self,
        hostname: str,
        port: int,
        *,
        password: Optional[str],
        ssl: bool,
        run_services: bool,
        faketime: Optional[str],
        websocket_hostname: Optional[str],
        websocket_port: Optional[int],
    ) -> None:
        if websocket_hostname is not None or websocket_port is not None:
            raise NotImplementedByController("Websocket")
        if ssl:
            raise NotImplementedByController("TLS")
        assert self.proc is None
        self.port = port
        self.hostname = hostname
        self.create_config()
        assert self.directory
        (_, tcp_port) = self.get_hostname_and_port()
        (_, http_port) = self.get_hostname_and_port()
        faketime_cmd = []
        if faketime and shutil.which("faketime"):
            faketime_cmd = ["faketime", "-f", faketime]
            self.faketime_enabled = True
        args = [
            "serve",
            "--host", hostname,
            "--port", str(tcp_port),
            "--http-port", str(http_port),
            "--irc-port", str(port),
            "--data-dir", str(self.directory / "data"),
            "--server-name", "My.Little.Server",
            "--oper", "operuser:operpassword",
            # Like Ergo's controller (nofakelag): the suite sends bursts.
            "--no-flood-control",
            "--new-rooms-per-minute", "0",
            "--new-rooms-per-minute-per-ip", "0",
            "--auth-failure-delay", "0",
            "--auth-lockout", "0",
            "--max-auth-checks-per-ip", "0",
            "--metrics-interval", "60s",
            # The suite registers accounts with short passwords ("sesame", "bar") and lets guests
            # (no account) operate the channels they create.
            "--min-password-length", "1",
            "--guest-room-modes",
        ]
        if password is not None:
            args += ["--irc-password", password]
        if os.environ.get("TEAMCHAT_IRCTEST_EXTRA"):
            args += os.environ["TEAMCHAT_IRCTEST_EXTRA"].split()
        self.proc = self.execute([*faketime_cmd, "node", str(TEAMCHAT_BIN), *args], proc_name="teamchat")

    def kill_proc(self) -> None:
        """Stops the server, and waits until its whole process group is gone.

        Under faketime the group leader (faketime) exits before the node server it runs, which is
        still shutting down (removing its data folder's lock) when irctest removes the folder:
        wait for the group, and kill what is left after 5 s.
        """
        pgid = self.proc.pid if self.proc else None
        super().kill_proc()
        if pgid is None:
            return
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def wait_for_services(self) -> None:
        """Accounts and history are built into teamchat: there are no services to wait for."""

    def registerUser(
        self,
        case: cases.BaseServerTestCase,  # type: ignore
        username: str,
        password: Optional[str] = None,
    ) -> None:
        """Registers an account through the gateway itself (draft/account-registration)."""
        assert password
        client = case.addClient(show_io=False)
        case.sendLine(client, "CAP LS 302")
        case.sendLine(client, "NICK " + username)
        case.sendLine(client, "USER r e g :user")
        case.sendLine(client, "CAP END")
        while case.getRegistrationMessage(client).command != "001":
            pass
        case.getMessages(client)
        case.sendLine(client, "REGISTER * * " + password)
        for msg in case.getMessages(client):
            if msg.command == "REGISTER" and msg.params[0] == "SUCCESS":
                break
            if msg.command == "FAIL":
                raise AssertionError(f"teamchat refused to register {username}: {msg}")
        case.sendLine(client, "QUIT")
        case.assertDisconnected(client)


def get_irctest_controller_class() -> Type[TeamchatController]:
    return TeamchatController
