"""A pystorm bolt that asks where its emits went (need_task_ids) and emits direct: each
word goes to the keyed stream and its receiving task is reported; the word also goes
straight to the last task of the direct stream's consumer."""
from pystorm import Bolt


class Tagger(Bolt):
    def initialize(self, conf, context):
        tasks = context["task->component"]
        self.direct_target = max(int(t) for t, c in tasks.items() if c == "direct_out")

    def process(self, tup):
        word = tup.values[0]
        tasks = self.emit([word], stream="keyed", need_task_ids=True)
        self.emit([word, tasks[0], len(tasks)], stream="report")
        self.emit([word], stream="direct", direct_task=self.direct_target)


Tagger().run()
