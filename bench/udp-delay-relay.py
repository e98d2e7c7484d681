#!/usr/bin/env python3
"""A UDP relay that delays every datagram by a fixed time each way: a LAN-like round trip on loopback.

bench/tftp.ts uses it because this kernel has no sch_netem (`tc qdisc add ... netem` answers "Specified qdisc
kind is unknown"). It is Python because the delay is 0.2 ms and Node's timers count whole milliseconds, while
select() waits to the microsecond; the loop sleeps between packets, so it costs no CPU of its own while idle.

TFTP-aware the way a NAT is: a client's first datagram (to --listen) goes to the server's port from a socket of
its own; each port the server answers from gets a socket of its own towards the client, so the client's transfer
ID (the server's port) maps back to the server's. Usage: udp-delay-relay.py LISTEN_PORT SERVER_PORT DELAY_US
"""
import heapq
import itertools
import select
import socket
import sys
import time

HOST = '127.0.0.1'


def bound_socket(port=0):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((HOST, port))
    sock.setblocking(False)
    return sock


def main():
    listen_port, server_port, delay_us = (int(arg) for arg in sys.argv[1:4])
    delay = delay_us / 1e6
    listener = bound_socket(listen_port)
    upstream = {}      # client address -> socket that speaks to the server for it
    client_of = {}     # upstream socket -> client address
    downstream = {}    # (client address, server port) -> socket that speaks to the client for that server port
    route_of = {}      # downstream socket -> (upstream socket, server port)
    due = []           # (time, order, socket, payload, address)
    order = itertools.count()
    print(f'relaying 127.0.0.1:{listener.getsockname()[1]} -> :{server_port}, {delay_us} us each way', flush=True)

    def later(sock, payload, address):
        heapq.heappush(due, (time.perf_counter() + delay, next(order), sock, payload, address))

    while True:
        timeout = max(0.0, due[0][0] - time.perf_counter()) if due else None
        readable, _, _ = select.select([listener, *client_of, *route_of], [], [], timeout)
        for sock in readable:
            while True:
                try:
                    payload, sender = sock.recvfrom(65536)
                except BlockingIOError:
                    break
                if sock is listener:
                    up = upstream.get(sender)
                    if up is None:
                        up = upstream[sender] = bound_socket()
                        client_of[up] = sender
                    later(up, payload, (HOST, server_port))
                elif sock in client_of:
                    client = client_of[sock]
                    down = downstream.get((client, sender[1]))
                    if down is None:
                        down = downstream[(client, sender[1])] = bound_socket()
                        route_of[down] = (sock, sender[1])
                    later(down, payload, client)
                else:
                    up, port = route_of[sock]
                    later(up, payload, (HOST, port))
        now = time.perf_counter()
        while due and due[0][0] <= now:
            _, _, sock, payload, address = heapq.heappop(due)
            try:
                sock.sendto(payload, address)
            except OSError:
                pass  # the peer went away: a real network drops it too


if __name__ == '__main__':
    main()
