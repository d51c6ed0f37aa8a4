"""A pystorm bolt that fails every number the first time it sees it and passes it on the
second: the spout must replay each one for it to arrive."""
from pystorm import Bolt


class FailOnce(Bolt):
    auto_ack = False
    auto_fail = False

    def initialize(self, conf, context):
        self.seen = set()

    def process(self, tup):
        n = tup.values[0]
        if n in self.seen:
            self.emit([n], anchors=[tup])
            self.ack(tup)
        else:
            self.seen.add(n)
            self.fail(tup)


FailOnce().run()
