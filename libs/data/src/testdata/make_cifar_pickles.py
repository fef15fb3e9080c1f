#!/usr/bin/env python3
"""Writes the tiny CIFAR pickle fixtures in this folder (needs Python 3 + numpy; run once, commit the output).

Tests never run Python: they read the committed files and compare with the same formulas
(see ../pickle-fixtures.test.ts). Contents:
  cifar-10-batches-py/  data_batch_1..5 (2 images each), test_batch (3), batches.meta, written
                        byte for byte the way Python 2 cPickle wrote the real download (protocol 2,
                        str keys as SHORT_BINSTRING, pixels as one BINSTRING, memo via BINPUT);
                        checked here by loading them back with Python 3's own unpickler.
  cifar-100-python/     train (4 images), test (2), meta: pickle.dump(protocol=2) from Python 3,
                        bytes keys (so bytes travel as _codecs.encode(..., 'latin1')).
  protocol4.pickle, protocol5.pickle: a CIFAR-10 style batch (2 images) with str keys, as
                        Python 3 writes it by default (FRAME, MEMOIZE, STACK_GLOBAL; protocol 5
                        stores the array via numpy's _frombuffer and BYTEARRAY8).
"""
import os
import pickle
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CIFAR10_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']


def pixels(f, n):
    """Image bytes of fixture file f with n images (mirrored in the TypeScript tests)."""
    return ((np.arange(n * 3072, dtype=np.int64) * 7 + f * 13) % 256).astype(np.uint8).reshape(n, 3072)


def labels10(f, n):
    return [(f * 3 + i) % 10 for i in range(n)]


def fine100(f, n):
    return [(f * 37 + i * 11) % 100 for i in range(n)]


class Py2Writer:
    """Emits protocol-2 opcodes the way Python 2's cPickle did for the CIFAR batches."""

    def __init__(self):
        self.out = bytearray(b'\x80\x02')
        self.memo = 0

    def put(self):
        self.memo += 1
        self.out += b'q' + bytes([self.memo]) if self.memo < 256 else b'r' + struct.pack('<I', self.memo)

    def str_(self, b):  # Python 2 str: SHORT_BINSTRING / BINSTRING, then memoised
        self.out += (b'U' + bytes([len(b)]) if len(b) < 256 else b'T' + struct.pack('<i', len(b))) + b
        self.put()

    def int_(self, v):
        if 0 <= v < 256:
            self.out += b'K' + bytes([v])
        elif 0 <= v < 65536:
            self.out += b'M' + struct.pack('<H', v)
        else:
            self.out += b'J' + struct.pack('<i', v)

    def list_(self, items, item):
        self.out += b']'
        self.put()
        for start in range(0, len(items), 1000):  # cPickle appends in batches of 1000
            self.out += b'('
            for x in items[start:start + 1000]:
                item(x)
            self.out += b'e'

    def ndarray(self, a):
        assert a.dtype == np.uint8 and a.ndim == 2
        self.out += b'cnumpy.core.multiarray\n_reconstruct\n'
        self.put()
        self.out += b'cnumpy\nndarray\n'
        self.put()
        self.out += b'K\x00\x85U\x01b\x87R'
        self.put()
        self.out += b'(K\x01'
        self.int_(a.shape[0])
        self.int_(a.shape[1])
        self.out += b'\x86cnumpy\ndtype\n'
        self.put()
        self.out += b'U\x02u1K\x00K\x01\x87R'
        self.put()
        self.out += b'(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89'
        raw = a.tobytes()
        self.out += b'T' + struct.pack('<i', len(raw)) + raw  # cPickle did not memoise this one
        self.out += b'tb'

    def dict_(self, entries):
        self.out += b'}'
        self.put()
        self.out += b'('
        for key, kind, value in entries:
            self.str_(key)
            if kind == 'array':
                self.ndarray(value)
            elif kind == 'ints':
                self.list_(value, self.int_)
            elif kind == 'strs':
                self.list_(value, self.str_)
            elif kind == 'str':
                self.str_(value)
            elif kind == 'int':
                self.int_(value)
        self.out += b'u.'
        return bytes(self.out)


def write(path, data):
    with open(path, 'wb') as fh:
        fh.write(data)


def check(path, expected):
    """Loads with Python's own unpickler both ways torchvision-era code does, compares."""
    for enc in ('bytes', 'latin1'):
        with open(path, 'rb') as fh:
            d = pickle.load(fh, encoding=enc)
        key = (lambda k: k.encode('latin1')) if enc == 'latin1' else (lambda k: k)
        got = {key(k): v for k, v in d.items()}
        for k, v in expected.items():
            if isinstance(v, np.ndarray):
                assert got[k].dtype == np.uint8 and np.array_equal(got[k], v), (path, k)
            else:
                norm = [x.encode('latin1') if isinstance(x, str) else x for x in got[k]] if isinstance(v, list) else got[k]
                if isinstance(norm, str):
                    norm = norm.encode('latin1')
                assert norm == v, (path, k, norm, v)


def cifar10():
    d = os.path.join(HERE, 'cifar-10-batches-py')
    os.makedirs(d, exist_ok=True)
    files = [('data_batch_%d' % i, i, 2, b'training batch %d of 5' % i) for i in range(1, 6)]
    files.append(('test_batch', 6, 3, b'testing batch 1 of 1'))
    for name, f, n, batch_label in files:
        data, labels = pixels(f, n), labels10(f, n)
        fnames = [b'img_%d_%d.png' % (f, i) for i in range(n)]
        blob = Py2Writer().dict_([
            (b'data', 'array', data), (b'labels', 'ints', labels),
            (b'batch_label', 'str', batch_label), (b'filenames', 'strs', fnames),
        ])
        write(os.path.join(d, name), blob)
        check(os.path.join(d, name), {b'data': data, b'labels': labels, b'batch_label': batch_label, b'filenames': fnames})
    meta = Py2Writer().dict_([
        (b'num_cases_per_batch', 'int', 10000),
        (b'label_names', 'strs', [n.encode() for n in CIFAR10_NAMES]),
        (b'num_vis', 'int', 3072),
    ])
    write(os.path.join(d, 'batches.meta'), meta)
    check(os.path.join(d, 'batches.meta'), {b'label_names': [n.encode() for n in CIFAR10_NAMES], b'num_vis': 3072})


def cifar100():
    d = os.path.join(HERE, 'cifar-100-python')
    os.makedirs(d, exist_ok=True)
    for name, f, n in (('train', 1, 4), ('test', 2, 2)):
        fine = fine100(f, n)
        obj = {
            b'filenames': [b'img_%d_%d.png' % (f, i) for i in range(n)],
            b'batch_label': b'training batch 1 of 1' if name == 'train' else b'testing batch 1 of 1',
            b'fine_labels': fine,
            b'coarse_labels': [x % 20 for x in fine],
            b'data': pixels(f, n),
        }
        with open(os.path.join(d, name), 'wb') as fh:
            pickle.dump(obj, fh, protocol=2)
    meta = {
        b'fine_label_names': [b'fine%02d' % i for i in range(100)],
        b'coarse_label_names': [b'coarse%02d' % i for i in range(20)],
    }
    with open(os.path.join(d, 'meta'), 'wb') as fh:
        pickle.dump(meta, fh, protocol=2)


def modern():
    for proto in (4, 5):
        obj = {'data': pixels(10 + proto, 2), 'labels': labels10(10 + proto, 2), 'batch_label': 'protocol %d' % proto}
        with open(os.path.join(HERE, 'protocol%d.pickle' % proto), 'wb') as fh:
            pickle.dump(obj, fh, protocol=proto)


if __name__ == '__main__':
    cifar10()
    cifar100()
    modern()
    print('fixtures written to', HERE)
