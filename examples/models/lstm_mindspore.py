"""The MindSpore port of lstm_torch.TextClassifier. nn.Dropout takes p= (keep_prob is the old spelling);
nn.LSTM's gate order (i, f, g, o) and parameter names match torch's; it holds an inner `rnn` cell torch has not."""

from mindspore import nn


class TextClassifier(nn.Cell):
    def __init__(self, vocab: int = 50, embed: int = 16, hidden: int = 24, classes: int = 4):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.dropout = nn.Dropout(p=0.3)
        self.fc = nn.Dense(hidden, classes)

    def construct(self, tokens):
        _, (h, _) = self.lstm(self.embedding(tokens))
        return self.fc(self.dropout(h[-1]))
