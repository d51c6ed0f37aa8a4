"""A pystorm bolt that splits sentences on spaces, as the built-in split does."""
from pystorm import Bolt


class Split(Bolt):
    def process(self, tup):
        for word in tup.values[0].split(" "):
            if word:
                self.emit([word])


Split().run()
