"""Keep tests offline: any connection beyond loopback fails the test at once.

Without this guard, a test that accidentally reaches for api.openai.com waits
for DNS and retries for minutes. With it, the test fails immediately with a
message that names the host.
"""

import ipaddress
import socket

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class NetworkAccessBlocked(BaseException):
    """Raised when code under test tries to leave the machine.

    It derives from BaseException so that retry loops written as
    ``except Exception`` (HTTP clients, MLflow's REST retries) do not swallow
    it and keep the test waiting.
    """


def is_loopback(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host).strip("[]")
    if host.lower() in _LOOPBACK_NAMES or host == "":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class OfflineMachine(ConnectionRefusedError):
    """What a machine without a network gives: an ``OSError`` that code may catch.

    Used for the lessons' snippets, which must behave as on a learner's offline
    machine (MLflow, for example, goes on without its price list from github.com).
    """


_ERROR: type[BaseException] = NetworkAccessBlocked


def _blocked(host, port) -> BaseException:
    return _ERROR(
        f"Tests run offline, but the code tried to reach {host}:{port}. "
        "Use the kata's fake LLMs and servers on 127.0.0.1 (see fixtures/), "
        "or mock the HTTP call with `responses`."
    )


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _address_host_port(address):
    if isinstance(address, tuple) and len(address) >= 2:
        return address[0], address[1]
    return None, None  # AF_UNIX paths and the like stay allowed


def _guarded_connect(sock, address):
    host, port = _address_host_port(address)
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(host):
        raise _blocked(host, port)
    return _real_connect(sock, address)


def _guarded_connect_ex(sock, address):
    host, port = _address_host_port(address)
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(host):
        raise _blocked(host, port)
    return _real_connect_ex(sock, address)


def _guarded_getaddrinfo(host, port, *args, **kwargs):
    # Looking up this machine's own name reads /etc/hosts and never hangs;
    # connecting to what it returns is still checked above.
    if not is_loopback(host) and host != socket.gethostname():
        raise _blocked(host, port)
    return _real_getaddrinfo(host, port, *args, **kwargs)


def install(like_an_offline_machine: bool = False) -> None:
    """Guard every connection; ``like_an_offline_machine`` raises ``OfflineMachine``
    (catchable) rather than ``NetworkAccessBlocked``."""
    global _ERROR
    _ERROR = OfflineMachine if like_an_offline_machine else NetworkAccessBlocked
    setattr(socket.socket, "connect", _guarded_connect)  # noqa: B010 - patching on purpose
    setattr(socket.socket, "connect_ex", _guarded_connect_ex)  # noqa: B010
    setattr(socket, "getaddrinfo", _guarded_getaddrinfo)  # noqa: B010


def uninstall() -> None:
    setattr(socket.socket, "connect", _real_connect)  # noqa: B010
    setattr(socket.socket, "connect_ex", _real_connect_ex)  # noqa: B010
    setattr(socket, "getaddrinfo", _real_getaddrinfo)  # noqa: B010
