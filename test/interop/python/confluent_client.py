#!/usr/bin/env python3
"""Drives confluent-kafka (Debian python3-confluent-kafka, librdkafka) for test/interop/python.test.ts.

    confluent_client.py BOOTSTRAP produce TOPIC COUNT --partitions P [--acks all] [--compression C] [--tag T]
    confluent_client.py BOOTSTRAP consume-assign TOPIC --partitions P --expect N [--seek P:OFFSET]
    confluent_client.py BOOTSTRAP consume-group TOPIC GROUP --expect N
    confluent_client.py BOOTSTRAP admin TOPIC

and for test/interop/groups.test.ts, long-running processes driven through stdin:

    confluent_client.py BOOTSTRAP produce-stream TOPIC --partitions P --interval-ms MS [--tag T]
        one record every MS ms until a line "stop" (or the end of stdin), then flush and exit
    confluent_client.py BOOTSTRAP group-member TOPIC GROUP --client-id ID [--session-timeout-ms MS]
            [--heartbeat-ms MS] [--assignors range,roundrobin]
        a group member that commits (synchronously) after every consume() batch and in on_revoke,
        until a line "leave" (or the end of stdin): commit, close() (LeaveGroup), exit

Prints one JSON object per line on stdout. Records produced are key k-<i>, value <tag>-<i>,
headers i=<i> and src=confluent-kafka, record i to partition i % P; the offset of each comes from
its delivery callback.
"""
import argparse
import json
import os
import sys
import threading
import time
import traceback

import confluent_kafka
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

DEADLINE_S = 90


_emit_lock = threading.Lock()


def emit(**fields):
    line = json.dumps(fields) + '\n'
    with _emit_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def text(b):
    return None if b is None else b.decode('utf-8')


def err(e):
    if isinstance(e, KafkaException) and e.args and hasattr(e.args[0], 'name'):
        ke = e.args[0]
        return {'class': 'KafkaException', 'name': ke.name(), 'code': ke.code(), 'message': ke.str()}
    return {'class': type(e).__name__, 'message': str(e)}


def on_error(e):
    emit(type='client-error', error=str(e))


def produce(a):
    conf = {'bootstrap.servers': a.bootstrap, 'client.id': 'godel-interop-confluent', 'acks': a.acks,
            'compression.codec': a.compression, 'error_cb': on_error}
    if a.idempotent:
        conf['enable.idempotence'] = True
    p = Producer(conf)
    results = {}

    def report(i):
        def cb(e, msg):
            if e is not None:
                results[i] = {'type': 'error', 'i': i, 'error': str(e)}
            else:
                results[i] = {'type': 'sent', 'i': i, 'partition': msg.partition(), 'offset': msg.offset(),
                              'timestamp': msg.timestamp()[1]}
        return cb

    for i in range(a.count):
        p.produce(a.topic, key=('k-%d' % i).encode(), value=('%s-%d' % (a.tag, i)).encode(),
                  headers=[('i', str(i).encode()), ('src', b'confluent-kafka')], partition=i % a.partitions,
                  on_delivery=report(i))
        p.poll(0)
    left = p.flush(DEADLINE_S)
    errors = 0
    for i in range(a.count):
        r = results.get(i, {'type': 'error', 'i': i, 'error': 'no delivery report'})
        if r['type'] != 'sent':
            errors += 1
        emit(**r)
    emit(type='done', sent=a.count - errors, errors=errors, undelivered=left)
    return 0 if errors == 0 else 1


def emit_record(m):
    emit(type='record', partition=m.partition(), offset=m.offset(), key=text(m.key()), value=text(m.value()),
         headers=[[k, text(v)] for k, v in (m.headers() or [])], timestamp=m.timestamp()[1])


def poll_until(c, expect):
    got = 0
    deadline = time.time() + DEADLINE_S
    errors = []
    while got < expect and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            errors.append(str(m.error()))
            emit(type='consume-error', error=str(m.error()))
            continue
        got += 1
        emit_record(m)
    if got >= expect:
        end = time.time() + 1
        while time.time() < end:
            m = c.poll(0.2)
            if m is not None and not m.error():
                got += 1
                emit_record(m)
    return got


def consume_assign(a):
    # confluent-kafka 1.7 insists on a group.id even for assign(); it is never joined or committed.
    c = Consumer({'bootstrap.servers': a.bootstrap, 'group.id': 'godel-interop-assign-%d-%d' % (os.getpid(), time.time()),
                  'enable.auto.commit': False,
                  'client.id': 'godel-interop-confluent', 'error_cb': on_error})
    tps = []
    for p in range(a.partitions):
        off = OFFSET_BEGINNING
        if a.seek and int(a.seek.split(':')[0]) == p:
            off = int(a.seek.split(':')[1])
        tps.append(TopicPartition(a.topic, p, off))
    c.assign(tps)
    got = poll_until(c, a.expect)
    for p in range(a.partitions):
        lo, hi = c.get_watermark_offsets(TopicPartition(a.topic, p), timeout=30)
        emit(type='offsets', partition=p, beginning=lo, end=hi)
    c.close()
    emit(type='done', count=got)
    return 0 if got == a.expect else 1


def consume_group(a):
    assigned = []

    def on_assign(consumer, partitions):
        assigned.extend(tp.partition for tp in partitions)
        emit(type='assigned', partitions=sorted(tp.partition for tp in partitions))

    c = Consumer({'bootstrap.servers': a.bootstrap, 'group.id': a.group, 'enable.auto.commit': False,
                  'auto.offset.reset': 'earliest', 'client.id': 'godel-interop-confluent', 'error_cb': on_error})
    c.subscribe([a.topic], on_assign=on_assign)
    got = poll_until(c, a.expect)
    if got > 0:
        c.commit(asynchronous=False)
    committed = c.committed([TopicPartition(a.topic, p) for p in sorted(set(assigned))], timeout=30)
    for tp in committed:
        emit(type='committed', partition=tp.partition, offset=tp.offset)
    c.close()
    emit(type='done', count=got)
    return 0 if got == a.expect else 1


def step(name, fn):
    try:
        emit(type='step', step=name, ok=True, result=fn())
    except Exception as e:  # noqa: BLE001
        emit(type='step', step=name, ok=False, error=err(e), trace=traceback.format_exc(limit=3))


def admin(a):
    ad = AdminClient({'bootstrap.servers': a.bootstrap, 'client.id': 'godel-interop-confluent-admin',
                      'error_cb': on_error})
    topic = a.topic

    def create():
        fs = ad.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1,
                                        config={'retention.ms': '3600000', 'cleanup.policy': 'delete'})],
                              operation_timeout=30, request_timeout=30)
        return fs[topic].result(timeout=60)

    def create_again():
        fs = ad.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)], request_timeout=30)
        return fs[topic].result(timeout=60)

    def validate_only():
        other = topic + '-validate'
        fs = ad.create_topics([NewTopic(other, num_partitions=2, replication_factor=1)], validate_only=True,
                              request_timeout=30)
        fs[other].result(timeout=60)
        return sorted(ad.list_topics(timeout=30).topics.keys())

    def list_topics():
        md = ad.list_topics(timeout=30)
        return {'brokers': sorted(['%d@%s:%d' % (b.id, b.host, b.port) for b in md.brokers.values()]),
                'controller_id': md.controller_id,
                'topics': {name: {'error': None if t.error is None else str(t.error),
                                  'partitions': sorted([{'id': p.id, 'leader': p.leader, 'replicas': p.replicas,
                                                         'isrs': p.isrs} for p in t.partitions.values()],
                                                       key=lambda p: p['id'])}
                           for name, t in md.topics.items() if name == topic},
                'names': sorted(md.topics.keys())}

    def describe_configs():
        res = ConfigResource('topic', topic)
        fs = ad.describe_configs([res], request_timeout=30)
        entries = list(fs.values())[0].result(timeout=60)
        return {name: {'value': e.value, 'source': int(e.source), 'is_default': e.is_default,
                       'is_read_only': e.is_read_only} for name, e in entries.items()}

    def describe_broker_configs():
        res = ConfigResource('broker', '1')
        fs = ad.describe_configs([res], request_timeout=30)
        entries = list(fs.values())[0].result(timeout=60)
        return {name: e.value for name, e in entries.items()}

    def delete():
        fs = ad.delete_topics([topic], operation_timeout=30, request_timeout=30)
        return fs[topic].result(timeout=60)

    step('create_topics', create)
    step('create_topics_again', create_again)
    step('create_topics_validate_only', validate_only)
    step('list_topics', list_topics)
    step('describe_configs', describe_configs)
    step('describe_broker_configs', describe_broker_configs)
    step('delete_topics', delete)
    step('list_topics_after_delete', lambda: sorted(ad.list_topics(timeout=30).topics.keys()))
    emit(type='done')
    return 0


# ---------------------------------------------------------------------------------------------
# Long-running processes for groups.test.ts


def stdin_says(word):
    """An event set once stdin carries a line `word`, or ends (the test process is gone)."""
    ev = threading.Event()

    def watch():
        try:
            for line in sys.stdin:
                if line.strip() == word:
                    break
        finally:
            ev.set()
    threading.Thread(target=watch, daemon=True).start()
    return ev


def produce_stream(a):
    p = Producer({'bootstrap.servers': a.bootstrap, 'client.id': 'godel-interop-confluent-stream', 'acks': 'all',
                  'linger.ms': 0, 'error_cb': on_error})
    stop = stdin_says('stop')
    errors = [0]

    def report(i):
        def cb(e, msg):
            if e is not None:
                errors[0] += 1
                emit(type='error', i=i, error=str(e))
            else:
                emit(type='sent', i=i, partition=msg.partition(), offset=msg.offset())
        return cb

    i = 0
    while not stop.is_set():
        p.produce(a.topic, key=('k-%d' % i).encode(), value=('%s-%d' % (a.tag, i)).encode(),
                  headers=[('i', str(i).encode()), ('src', b'confluent-kafka')], partition=i % a.partitions,
                  on_delivery=report(i))
        i += 1
        p.poll(0)
        stop.wait(a.interval_ms / 1000.0)
    left = p.flush(DEADLINE_S)
    emit(type='done', sent=i - errors[0] - left, errors=errors[0], undelivered=left)
    return 0 if errors[0] == 0 and left == 0 else 1


def group_member(a):
    leave = stdin_says('leave')
    processed = {}  # partition -> next offset, processed and not yet committed
    consumer = []

    def commit(why):
        if not processed:
            return
        listed = sorted([p, o] for p, o in processed.items())
        processed.clear()
        try:
            result = consumer[0].commit(offsets=[TopicPartition(a.topic, p, o) for p, o in listed], asynchronous=False)
            failed = [[tp.partition, str(tp.error)] for tp in (result or []) if tp.error is not None]
            if failed:
                emit(type='commit-failed', why=why, offsets=listed, error=failed)
            else:
                emit(type='committed', why=why, offsets=listed)
        except KafkaException as e:
            emit(type='commit-failed', why=why, offsets=listed, error=err(e))

    def on_assign(c, partitions):
        emit(type='assigned', partitions=sorted(tp.partition for tp in partitions))

    def on_revoke(c, partitions):
        commit('revoked')
        emit(type='revoked', partitions=sorted(tp.partition for tp in partitions))

    c = Consumer({'bootstrap.servers': a.bootstrap, 'group.id': a.group, 'client.id': a.client_id,
                  'enable.auto.commit': False, 'auto.offset.reset': 'earliest',
                  'session.timeout.ms': a.session_timeout_ms, 'heartbeat.interval.ms': a.heartbeat_ms,
                  'partition.assignment.strategy': a.assignors, 'fetch.wait.max.ms': 200, 'error_cb': on_error})
    consumer.append(c)
    c.subscribe([a.topic], on_assign=on_assign, on_revoke=on_revoke)
    emit(type='started')
    while not leave.is_set():
        for m in c.consume(num_messages=100, timeout=0.2):
            if m.error():
                emit(type='consume-error', error=str(m.error()))
                continue
            emit_record(m)
            processed[m.partition()] = m.offset() + 1
        commit('poll')
    commit('leave')
    c.close()
    emit(type='left')
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('bootstrap')
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('produce')
    p.add_argument('topic')
    p.add_argument('count', type=int)
    p.add_argument('--partitions', type=int, default=1)
    p.add_argument('--acks', default='all')
    p.add_argument('--compression', default='none')
    p.add_argument('--idempotent', action='store_true')
    p.add_argument('--tag', default='v')
    c = sub.add_parser('consume-assign')
    c.add_argument('topic')
    c.add_argument('--partitions', type=int, required=True)
    c.add_argument('--expect', type=int, required=True)
    c.add_argument('--seek', default=None)
    g = sub.add_parser('consume-group')
    g.add_argument('topic')
    g.add_argument('group')
    g.add_argument('--expect', type=int, required=True)
    d = sub.add_parser('admin')
    d.add_argument('topic')
    s = sub.add_parser('produce-stream')
    s.add_argument('topic')
    s.add_argument('--partitions', type=int, required=True)
    s.add_argument('--interval-ms', type=int, default=20)
    s.add_argument('--tag', default='v')
    m = sub.add_parser('group-member')
    m.add_argument('topic')
    m.add_argument('group')
    m.add_argument('--client-id', required=True)
    m.add_argument('--session-timeout-ms', type=int, default=10000)
    m.add_argument('--heartbeat-ms', type=int, default=500)
    m.add_argument('--assignors', default='range,roundrobin')
    a = ap.parse_args()
    emit(type='version', client='confluent-kafka', version=confluent_kafka.version()[0],
         librdkafka=confluent_kafka.libversion()[0])
    fn = {'produce': produce, 'consume-assign': consume_assign, 'consume-group': consume_group, 'admin': admin,
          'produce-stream': produce_stream, 'group-member': group_member}[a.cmd]
    try:
        return fn(a)
    except Exception as e:  # noqa: BLE001
        emit(type='fatal', error=err(e), trace=traceback.format_exc())
        return 1


if __name__ == '__main__':
    sys.exit(main())
