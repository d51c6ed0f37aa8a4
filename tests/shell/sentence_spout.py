"""A pystorm spout with a fixed list of sentences, each emitted once with its index as
the message id, replayed on fail; it logs every ack."""
from pystorm import Spout

SENTENCES = ["the cow jumped over the moon", "an apple a day", "four score and seven"] * 20


class Sentences(Spout):
    def initialize(self, conf, context):
        self.next_index = 0
        self.failed = []

    def next_tuple(self):
        if self.failed:
            i = self.failed.pop()
        elif self.next_index < len(SENTENCES):
            i = self.next_index
            self.next_index += 1
        else:
            return
        self.emit([SENTENCES[i]], tup_id=i)

    def ack(self, tup_id):
        self.log("acked %s" % tup_id)

    def fail(self, tup_id):
        self.failed.append(tup_id)


Sentences().run()
