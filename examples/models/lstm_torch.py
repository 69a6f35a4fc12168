"""An LSTM text classifier: embedding, one LSTM layer, the last hidden state, linear."""

from torch import nn


class TextClassifier(nn.Module):
    def __init__(self, vocab: int = 50, embed: int = 16, hidden: int = 24, classes: int = 4):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, tokens):
        _, (h, _) = self.lstm(self.embedding(tokens))
        return self.fc(self.dropout(h[-1]))
