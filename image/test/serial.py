#!/usr/bin/env python3
"""Types a line on the appliance's serial console (QEMU chardev unix socket), as a person
at the console would pick a menu entry. Usage: serial.py SOCKET TEXT"""
import socket
import sys
import time

with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
    s.connect(sys.argv[1])
    s.sendall(sys.argv[2].encode() + b"\r")
    # Give QEMU a moment to hand the bytes to the guest before the socket closes.
    time.sleep(0.5)
