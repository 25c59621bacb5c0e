"""The protocols suite: Mealy machines over words, as in logs of reactive systems.

Two families. ``random``: a size ladder of random Mealy machines, 5 to 200 states, 5-30 input
words and 3-20 output words, drawn the way the automata learning literature draws them (random
transitions over a random spanning tree from the initial state, so every state is reachable;
random outputs; re-drawn until minimal). ``protocol``: machines written from protocol
specifications (a TCP-like connection, an MQTT-like session, a TLS-like server handshake, a MESI
cache controller, a ticket machine), each the reachable part of a step function over readable
states. Every machine is minimal with every state reachable from the initial one.

Training data are traces from reset: each trace a word sequence of 1..20 uniformly random input
words and the machine's output words, with word vocabularies built exactly as the CSV and JSON
Lines readers build them. The judge (:mod:`mips.bench.trace_judge`) replays fresh traces up to
their first step that no training trace exercised.
"""

from __future__ import annotations

from mips.tasks.mealy import FAMILIES, MealyTask, explore, random_mealy

__all__ = ["FAMILIES", "N_TRAIN", "TASKS"]

# Training traces per job: logs of a few thousand short sessions from reset.
N_TRAIN = 3000


# --- machines from protocol specifications --------------------------------------------------------

TCP_INPUTS = (
    "LISTEN", "CONNECT", "SEND", "CLOSE", "TIMEOUT",  # the application and the timer
    "SYN", "SYN_ACK", "ACK", "DATA", "FIN", "RST",  # segments received
)  # fmt: skip
TCP_WINDOW = 3


def _tcp(state: str, word: str) -> tuple[str, str]:
    """One TCP endpoint (RFC 793's states) with a send window of 3 unacknowledged segments.

    Established is ``EST_k`` with k segments in flight: SEND sends DATA while k < 3, a cumulative
    ACK empties the window, a TIMEOUT retransmits. A connect retries its SYN once on a TIMEOUT.
    Segments to a closed port are answered RST; calls the state does not allow are an ERROR.
    """
    app = word in ("LISTEN", "CONNECT", "SEND", "CLOSE")
    if word == "RST":
        if state in ("CLOSED", "LISTEN"):
            return state, "NIL"
        return ("LISTEN" if state == "SYN_RCVD" else "CLOSED"), "NIL"
    if state == "CLOSED":
        if word == "LISTEN":
            return "LISTEN", "NIL"
        if word == "CONNECT":
            return "SYN_SENT", "SYN"
        return state, "ERROR" if app else ("NIL" if word == "TIMEOUT" else "RST")
    if state == "LISTEN":
        moves = {"SYN": ("SYN_RCVD", "SYN_ACK"), "CONNECT": ("SYN_SENT", "SYN")}
        moves |= {"CLOSE": ("CLOSED", "NIL"), "ACK": (state, "RST"), "SYN_ACK": (state, "RST")}
        return moves.get(word, (state, "ERROR" if app else "NIL"))
    if state in ("SYN_SENT", "SYN_SENT_RETRY"):
        moves = {"SYN_ACK": ("EST_0", "ACK"), "SYN": ("SYN_RCVD", "SYN_ACK")}
        moves |= {"CLOSE": ("CLOSED", "NIL"), "ACK": (state, "RST"), "SEND": (state, "NIL")}
        moves["TIMEOUT"] = ("SYN_SENT_RETRY", "SYN") if state == "SYN_SENT" else ("CLOSED", "NIL")
        return moves.get(word, (state, "ERROR" if app else "NIL"))
    if state == "SYN_RCVD":
        moves = {"ACK": ("EST_0", "NIL"), "TIMEOUT": (state, "SYN_ACK"), "SYN": (state, "SYN_ACK")}
        moves |= {"CLOSE": ("FIN_WAIT_1", "FIN"), "SYN_ACK": (state, "RST"), "SEND": (state, "NIL")}
        return moves.get(word, (state, "ERROR" if app else "NIL"))
    if state.startswith("EST_"):
        return _tcp_established(int(state[4:]), word)
    return _tcp_closing(state, word, app)


def _tcp_established(k: int, word: str) -> tuple[str, str]:
    """Established with ``k`` segments in flight."""
    moves = {
        "SEND": (f"EST_{k + 1}", "DATA") if k < TCP_WINDOW else (f"EST_{k}", "NIL"),
        "ACK": ("EST_0", "NIL"),
        "TIMEOUT": (f"EST_{k}", "DATA" if k else "NIL"),
        "DATA": (f"EST_{k}", "ACK"),
        "FIN": ("CLOSE_WAIT", "ACK"),
        "CLOSE": ("FIN_WAIT_1", "FIN"),
        "SYN": (f"EST_{k}", "ACK"),  # a challenge ACK, as RFC 5961 asks
        "SYN_ACK": (f"EST_{k}", "ACK"),
    }
    return moves.get(word, (f"EST_{k}", "ERROR"))


def _tcp_closing(state: str, word: str, app: bool) -> tuple[str, str]:
    """The states of a teardown, from either side."""
    closing = {
        "FIN_WAIT_1": {"ACK": ("FIN_WAIT_2", "NIL"), "FIN": ("CLOSING", "ACK")},
        "FIN_WAIT_2": {"FIN": ("TIME_WAIT", "ACK"), "TIMEOUT": (state, "NIL")},
        "CLOSING": {"ACK": ("TIME_WAIT", "NIL")},
        "TIME_WAIT": {"TIMEOUT": ("CLOSED", "NIL"), "DATA": (state, "NIL")},
        "CLOSE_WAIT": {"CLOSE": ("LAST_ACK", "FIN"), "SEND": (state, "DATA")},
        "LAST_ACK": {"ACK": ("CLOSED", "NIL")},
    }[state]
    if word in closing:
        return closing[word]
    if word == "TIMEOUT":  # our FIN is unacknowledged: send it again
        return state, "FIN" if state in ("FIN_WAIT_1", "CLOSING", "LAST_ACK") else "NIL"
    if word in ("DATA", "FIN", "SYN", "SYN_ACK"):
        return state, "ACK"
    return state, "ERROR" if app else "NIL"


MQTT_TOPICS = ("A", "B", "C")
MQTT_INPUTS = (
    "CONNECT", "DISCONNECT", "PINGREQ",
    *(f"{verb}_{t}" for verb in ("SUBSCRIBE", "UNSUBSCRIBE", "PUBLISH") for t in MQTT_TOPICS),
    "RETAIN_A", "CLEAR_A",
)  # fmt: skip

MqttState = tuple[bool, frozenset, bool]  # connected, subscribed topics, a message retained on A


def _mqtt(state: MqttState, word: str) -> tuple[MqttState, str]:
    """A broker's view of one client's persistent session (clean session off).

    Subscriptions outlive a disconnect. Before CONNECT, or on a second CONNECT, the broker closes
    the connection. A publish is acknowledged, and delivered back when the client subscribes to
    its topic; RETAIN_A keeps a message on topic A that a later SUBSCRIBE_A delivers, CLEAR_A
    deletes it.
    """
    connected, subs, retained = state
    if not connected:
        return ((True, subs, retained), "CONNACK") if word == "CONNECT" else (state, "CLOSED")
    if word in ("CONNECT", "DISCONNECT"):
        return (False, subs, retained), "CLOSED" if word == "CONNECT" else "NIL"
    if word == "PINGREQ":
        return state, "PINGRESP"
    verb, topic = word.split("_")
    if verb == "SUBSCRIBE":
        delivered = topic == "A" and retained
        return (True, subs | {topic}, retained), "SUBACK_PUBLISH_A" if delivered else "SUBACK"
    if verb == "UNSUBSCRIBE":
        return (True, subs - {topic}, retained), "UNSUBACK"
    if verb in ("RETAIN", "CLEAR"):
        retained = verb == "RETAIN"
    out = f"PUBACK_PUBLISH_{topic}" if topic in subs else "PUBACK"
    return (True, subs, retained), out


def _show_mqtt(state: MqttState) -> str:
    connected, subs, retained = state
    topics = "".join(sorted(subs)) or "-"
    return f"{'CONNECTED' if connected else 'DISCONNECTED'}_{topics}" + "_RETAINED" * retained


TLS_INPUTS = (
    "CLIENT_HELLO", "CERTIFICATE", "EMPTY_CERTIFICATE", "CLIENT_KEY_EXCHANGE",
    "CERTIFICATE_VERIFY", "CHANGE_CIPHER_SPEC", "FINISHED", "APPLICATION_DATA", "ALERT",
    "CLOSE_NOTIFY",
)  # fmt: skip
# The handshake a TLS 1.2 server that requests a client certificate expects, state by state:
# the one message that moves it on, and where to.
TLS_ORDER: dict[str, dict[str, str]] = {
    "WAIT_CLIENT_HELLO": {"CLIENT_HELLO": "WAIT_CERTIFICATE"},
    "WAIT_CERTIFICATE": {
        "CERTIFICATE": "WAIT_KEY_EXCHANGE_AUTH",
        "EMPTY_CERTIFICATE": "WAIT_KEY_EXCHANGE_ANON",
    },
    "WAIT_KEY_EXCHANGE_AUTH": {"CLIENT_KEY_EXCHANGE": "WAIT_CERTIFICATE_VERIFY"},
    "WAIT_KEY_EXCHANGE_ANON": {"CLIENT_KEY_EXCHANGE": "WAIT_CHANGE_CIPHER_SPEC"},
    "WAIT_CERTIFICATE_VERIFY": {"CERTIFICATE_VERIFY": "WAIT_CHANGE_CIPHER_SPEC"},
    "WAIT_CHANGE_CIPHER_SPEC": {"CHANGE_CIPHER_SPEC": "WAIT_FINISHED"},
    "WAIT_FINISHED": {"FINISHED": "ESTABLISHED"},
}

# A full handshake with a client certificate, in the order TLS_ORDER accepts.
TLS_ORDER_EXAMPLE = (
    "CLIENT_HELLO", "CERTIFICATE", "CLIENT_KEY_EXCHANGE", "CERTIFICATE_VERIFY",
    "CHANGE_CIPHER_SPEC", "FINISHED",
)  # fmt: skip


def _tls(state: str, word: str) -> tuple[str, str]:
    """A TLS 1.2-like server that requests a client certificate (an empty one is accepted).

    Each handshake message out of order is answered by a fatal unexpected_message alert; a client
    alert or close_notify ends the connection; a closed connection answers nothing but
    CONNECTION_CLOSED. Once established, data is echoed and renegotiation is refused with a
    warning alert.
    """
    if state == "CLOSED":
        return state, "CONNECTION_CLOSED"
    if word == "ALERT":
        return "CLOSED", "CONNECTION_CLOSED"
    if word == "CLOSE_NOTIFY":
        return "CLOSED", "CLOSE_NOTIFY"
    if state == "ESTABLISHED":
        if word == "APPLICATION_DATA":
            return state, "APPLICATION_DATA"
        if word == "CLIENT_HELLO":
            return state, "ALERT_NO_RENEGOTIATION"
        return "CLOSED", "ALERT_UNEXPECTED_MESSAGE"
    nxt = TLS_ORDER[state].get(word)
    if nxt is None:
        return "CLOSED", "ALERT_UNEXPECTED_MESSAGE"
    out = {"CLIENT_HELLO": "SERVER_HELLO_DONE", "FINISHED": "CHANGE_CIPHER_SPEC_FINISHED"}
    return nxt, out.get(word, "NIL")


MESI_INPUTS = (
    "LOAD", "STORE", "EVICT",  # from the processor
    "OTHER_GETS", "OTHER_GETM",  # other caches' requests snooped on the bus
    "DATA_EXCLUSIVE", "DATA_SHARED", "INV_ACK", "WB_ACK",  # replies to our requests
)  # fmt: skip


def _mesi(state: str, word: str) -> tuple[str, str]:
    """A MESI controller for one cache line, with the transient states of a split bus.

    Stable states I, S, E, M; transient IS_D and IM_D (waiting for data after a GETS / GETM),
    SM_A (waiting for an upgrade's invalidation acks), MI_A (waiting for a writeback's ack). The
    processor is stalled in a transient state; a reply nobody asked for is an ERROR.
    """
    reply = word in ("DATA_EXCLUSIVE", "DATA_SHARED", "INV_ACK", "WB_ACK")
    table: dict[str, dict[str, tuple[str, str]]] = {
        "I": {"LOAD": ("IS_D", "GETS"), "STORE": ("IM_D", "GETM")},
        "S": {"LOAD": ("S", "HIT"), "STORE": ("SM_A", "UPGRADE"), "OTHER_GETM": ("I", "NIL")},
        "E": {
            "LOAD": ("E", "HIT"),
            "STORE": ("M", "HIT"),  # silent upgrade: nobody else holds the line
            "OTHER_GETS": ("S", "FLUSH"),
            "OTHER_GETM": ("I", "FLUSH"),
        },
        "M": {
            "LOAD": ("M", "HIT"),
            "STORE": ("M", "HIT"),
            "EVICT": ("MI_A", "PUTM"),
            "OTHER_GETS": ("S", "FLUSH"),
            "OTHER_GETM": ("I", "FLUSH"),
        },
        "IS_D": {"DATA_EXCLUSIVE": ("E", "HIT"), "DATA_SHARED": ("S", "HIT")},
        "IM_D": {"DATA_EXCLUSIVE": ("M", "HIT"), "DATA_SHARED": ("M", "HIT")},
        "SM_A": {"LOAD": ("SM_A", "HIT"), "INV_ACK": ("M", "HIT"), "OTHER_GETM": ("IM_D", "NIL")},
        "MI_A": {
            "OTHER_GETS": ("MI_A", "FLUSH"),  # still the owner until the writeback is acked
            "OTHER_GETM": ("MI_A", "FLUSH"),
            "WB_ACK": ("I", "NIL"),
        },
    }
    if word in table[state]:
        return table[state][word]
    if reply:
        return state, "ERROR"
    if word in ("LOAD", "STORE", "EVICT") and state in ("IS_D", "IM_D", "SM_A", "MI_A"):
        return state, "STALL"
    if word == "EVICT" and state in ("S", "E"):
        return "I", "NIL"  # a clean line leaves silently
    return state, "NIL"


TICKET_PRICES = {"SINGLE": 2, "RETURN": 3, "DAY": 4}
TICKET_INPUTS = ("SINGLE", "RETURN", "DAY", "COIN_1", "COIN_2", "CANCEL")

TicketState = tuple[int, int]  # price of the chosen ticket (0: none chosen), credit paid


def _ticket(state: TicketState, word: str) -> tuple[TicketState, str]:
    """A ticket machine: choose a ticket (price 2, 3 or 4), pay with coins of 1 and 2.

    A coin before a choice is returned; once paid, the ticket is printed, with change if the last
    coin overpaid. A new choice is taken while nothing is paid, else refused (BUSY). CANCEL
    refunds what was paid.
    """
    price, credit = state
    if word in TICKET_PRICES:
        if credit:
            return state, "BUSY"
        return (TICKET_PRICES[word], 0), f"PRICE_{TICKET_PRICES[word]}"
    if word == "CANCEL":
        return (0, 0), f"REFUND_{credit}" if credit else "NIL"
    coin = int(word[-1])
    if not price:
        return state, "COIN_RETURNED"
    if credit + coin < price:
        return (price, credit + coin), "NIL"
    change = credit + coin - price
    return (0, 0), f"TICKET_CHANGE_{change}" if change else "TICKET"


def _show_ticket(state: TicketState) -> str:
    price, credit = state
    return f"PRICE_{price}_PAID_{credit}" if price else "IDLE"


def _protocols() -> tuple[MealyTask, ...]:
    return (*_network_protocols(), *_device_protocols())


def _network_protocols() -> tuple[MealyTask, ...]:
    return (
        explore(
            "P_TCP_Connection",
            "a TCP endpoint: handshake (active, passive, simultaneous open), a send window of 3 "
            "segments, teardown from either side through TIME_WAIT, resets",
            TCP_INPUTS,
            "CLOSED",
            _tcp,
            ("CONNECT", "SYN_ACK", "SEND", "ACK", "CLOSE", "ACK", "FIN", "TIMEOUT"),
        ),
        explore(
            "P_MQTT_Session",
            "an MQTT broker's persistent session for one client: connect, subscriptions to "
            "topics A, B, C that outlive a disconnect, publishes delivered to subscribers, a "
            "retained message on A",
            MQTT_INPUTS,
            (False, frozenset(), False),
            _mqtt,
            ("PUBLISH_A", "CONNECT", "SUBSCRIBE_A", "PUBLISH_A", "RETAIN_A", "DISCONNECT"),
            _show_mqtt,
        ),
        explore(
            "P_TLS_Server",
            "a TLS 1.2-like server handshake requesting a client certificate: messages in the "
            "specified order, fatal alerts on any other, data and close_notify once established",
            TLS_INPUTS,
            "WAIT_CLIENT_HELLO",
            _tls,
            (*TLS_ORDER_EXAMPLE, "APPLICATION_DATA", "CLOSE_NOTIFY"),
        ),
    )


def _device_protocols() -> tuple[MealyTask, ...]:
    return (
        explore(
            "P_MESI_Cache",
            "a MESI cache-coherence controller for one line, with the transient states of a "
            "split-transaction bus",
            MESI_INPUTS,
            "I",
            _mesi,
            ("LOAD", "DATA_EXCLUSIVE", "STORE", "OTHER_GETS", "STORE", "INV_ACK", "EVICT"),
        ),
        explore(
            "P_Ticket_Machine",
            "a ticket machine: choose a ticket of price 2, 3 or 4, pay with coins of 1 and 2, "
            "change, refunds on cancel",
            TICKET_INPUTS,
            (0, 0),
            _ticket,
            ("COIN_1", "RETURN", "COIN_2", "COIN_2", "DAY", "COIN_1", "CANCEL"),
            _show_ticket,
        ),
    )


# (states, inputs, outputs, seed) of the random ladder, 5 to 200 states.
LADDER: tuple[tuple[int, int, int, int], ...] = (
    (5, 5, 3, 1),
    (10, 6, 4, 2),
    (15, 8, 5, 3),
    (20, 10, 5, 4),
    (30, 12, 6, 5),
    (40, 15, 8, 6),
    (50, 10, 10, 7),
    (75, 20, 10, 8),
    (100, 15, 12, 9),
    (125, 25, 15, 10),
    (150, 20, 16, 11),
    (200, 30, 20, 12),
)

TASKS: tuple[MealyTask, ...] = (
    *(random_mealy(s, i, o, seed) for s, i, o, seed in LADDER),
    *_protocols(),
)
