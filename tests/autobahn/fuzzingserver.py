# Python 2.7: Autobahn|Testsuite's fuzzing server, on 127.0.0.1 and a port the system picks.
#
#   python2.7 fuzzingserver.py SITE SPEC
#
# SITE is the folder the suite was installed into (pip --target, see mk/autobahn.mk); SPEC
# the fuzzing server's JSON specification (cases, outdir). `wstest -m fuzzingserver` listens
# on every interface and on the spec's fixed port; this builds the same server factory and
# listens on 127.0.0.1 port 0, then prints "PORT <n>" once it accepts connections. Runs until
# killed or until its standard input closes.
import json
import site
import sys

site.addsitedir(sys.argv[1])  # a site folder: its .pth files (the zope namespace) apply

from twisted.internet import reactor, stdio  # noqa: E402
from twisted.protocols.basic import LineReceiver  # noqa: E402
from autobahntestsuite.fuzzing import FuzzingServerFactory  # noqa: E402


class StopOnEof(LineReceiver):
    def connectionLost(self, reason):
        if reactor.running:
            reactor.stop()


with open(sys.argv[2]) as f:
    spec = json.load(f)
factory = FuzzingServerFactory(spec)
port = reactor.listenTCP(0, factory, interface="127.0.0.1")
factory.externalPort = port.getHost().port  # checked against the Host header of each upgrade
stdio.StandardIO(StopOnEof())
print("PORT %d" % port.getHost().port)
sys.stdout.flush()
reactor.run()
