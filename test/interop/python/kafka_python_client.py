#!/usr/bin/env python3
"""Drives kafka-python (Debian python3-kafka) for test/interop/python.test.ts.

    kafka_python_client.py BOOTSTRAP produce TOPIC COUNT --partitions P --acks 1|all [--compression gzip] [--tag T]
    kafka_python_client.py BOOTSTRAP consume-assign TOPIC --partitions P --expect N [--seek P:OFFSET]
    kafka_python_client.py BOOTSTRAP consume-group TOPIC GROUP --expect N
    kafka_python_client.py BOOTSTRAP admin TOPIC

Prints one JSON object per line on stdout. Records produced are key k-<i>, value <tag>-<i>,
headers i=<i> and src=kafka-python, record i to partition i % P.
"""
import argparse
import json
import sys
import time
import traceback

import kafka
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic

DEADLINE_S = 90


def emit(**fields):
    print(json.dumps(fields), flush=True)


def text(b):
    return None if b is None else b.decode('utf-8')


def err(e):
    return {'class': type(e).__name__, 'message': str(e)}


def produce(a):
    p = KafkaProducer(bootstrap_servers=a.bootstrap, acks=(a.acks if a.acks == 'all' else int(a.acks)),
                      compression_type=a.compression, client_id='godel-interop-kafka-python',
                      linger_ms=5, retries=5)
    futures = []
    for i in range(a.count):
        futures.append(p.send(a.topic, key=('k-%d' % i).encode(), value=('%s-%d' % (a.tag, i)).encode(),
                              headers=[('i', str(i).encode()), ('src', b'kafka-python')],
                              partition=i % a.partitions))
    p.flush(timeout=DEADLINE_S)
    errors = 0
    for i, f in enumerate(futures):
        try:
            md = f.get(timeout=DEADLINE_S)
            emit(type='sent', i=i, partition=md.partition, offset=md.offset)
        except Exception as e:  # noqa: BLE001
            errors += 1
            emit(type='error', i=i, error=err(e))
    p.close(timeout=10)
    emit(type='done', sent=a.count - errors, errors=errors)
    return 0 if errors == 0 else 1


def emit_record(r):
    emit(type='record', partition=r.partition, offset=r.offset, key=text(r.key), value=text(r.value),
         headers=[[k, text(v)] for k, v in (r.headers or [])], timestamp=r.timestamp)


def poll_until(c, expect):
    got = 0
    deadline = time.time() + DEADLINE_S
    while got < expect and time.time() < deadline:
        for records in c.poll(timeout_ms=500).values():
            for r in records:
                got += 1
                emit_record(r)
    if got >= expect:
        # Anything more would be a duplicate.
        end = time.time() + 1
        while time.time() < end:
            for records in c.poll(timeout_ms=200).values():
                for r in records:
                    got += 1
                    emit_record(r)
    return got


def consume_assign(a):
    c = KafkaConsumer(bootstrap_servers=a.bootstrap, group_id=None, enable_auto_commit=False,
                      auto_offset_reset='earliest', client_id='godel-interop-kafka-python')
    tps = [TopicPartition(a.topic, p) for p in range(a.partitions)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    if a.seek:
        p, off = a.seek.split(':')
        c.seek(TopicPartition(a.topic, int(p)), int(off))
    got = poll_until(c, a.expect)
    for tp in tps:
        emit(type='position', partition=tp.partition, offset=c.position(tp))
    ends = c.end_offsets(tps)
    begins = c.beginning_offsets(tps)
    for tp in tps:
        emit(type='offsets', partition=tp.partition, beginning=begins[tp], end=ends[tp])
    c.close()
    emit(type='done', count=got)
    return 0 if got == a.expect else 1


def consume_group(a):
    c = KafkaConsumer(a.topic, bootstrap_servers=a.bootstrap, group_id=a.group, enable_auto_commit=False,
                      auto_offset_reset='earliest', client_id='godel-interop-kafka-python')
    got = poll_until(c, a.expect)
    assigned = sorted(c.assignment(), key=lambda tp: tp.partition)
    emit(type='assignment', partitions=[tp.partition for tp in assigned])
    c.commit()
    for tp in assigned:
        emit(type='committed', partition=tp.partition, offset=c.committed(tp))
    c.close()
    emit(type='done', count=got)
    return 0 if got == a.expect else 1


def step(name, fn):
    try:
        emit(type='step', step=name, ok=True, result=fn())
    except Exception as e:  # noqa: BLE001
        emit(type='step', step=name, ok=False, error=err(e), trace=traceback.format_exc(limit=3))


def admin(a):
    ad = KafkaAdminClient(bootstrap_servers=a.bootstrap, client_id='godel-interop-kafka-python-admin',
                          request_timeout_ms=30000)
    topic = a.topic

    def create():
        r = ad.create_topics([NewTopic(topic, 3, 1, topic_configs={'retention.ms': '3600000'})],
                             timeout_ms=30000)
        return [list(t) for t in getattr(r, 'topic_errors', getattr(r, 'topics', []))]

    def create_again():
        ad.create_topics([NewTopic(topic, 3, 1)], timeout_ms=30000)

    def describe_topics():
        out = []
        for t in ad.describe_topics([topic]):
            out.append({'topic': t['topic'], 'error_code': t['error_code'], 'is_internal': t.get('is_internal'),
                        'partitions': sorted(
                            [{'partition': p['partition'], 'leader': p['leader'], 'replicas': p['replicas'],
                              'isr': p['isr'], 'error_code': p['error_code']} for p in t['partitions']],
                            key=lambda p: p['partition'])})
        return out

    def describe_configs():
        responses = ad.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        out = {}
        for resp in responses:
            for res in resp.resources:
                error_code, error_message, rtype, rname, entries = res[:5]
                out['error_code'] = error_code
                out['resource'] = rname
                out['configs'] = {e[0]: e[1] for e in entries}
        return out

    def delete():
        r = ad.delete_topics([topic], timeout_ms=30000)
        return [list(t) for t in r.topic_error_codes]

    step('create_topics', create)
    step('create_topics_again', create_again)
    step('list_topics', lambda: sorted(ad.list_topics()))
    step('describe_topics', describe_topics)
    step('describe_configs', describe_configs)
    step('describe_cluster', lambda: {k: v for k, v in ad.describe_cluster().items() if k in ('cluster_id', 'controller_id', 'brokers')})
    step('delete_topics', delete)
    step('list_topics_after_delete', lambda: sorted(ad.list_topics()))
    ad.close()
    emit(type='done')
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('bootstrap')
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('produce')
    p.add_argument('topic')
    p.add_argument('count', type=int)
    p.add_argument('--partitions', type=int, default=1)
    p.add_argument('--acks', default='1')
    p.add_argument('--compression', default=None)
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
    a = ap.parse_args()
    emit(type='version', client='kafka-python', version=kafka.__version__)
    fn = {'produce': produce, 'consume-assign': consume_assign, 'consume-group': consume_group, 'admin': admin}[a.cmd]
    try:
        return fn(a)
    except Exception as e:  # noqa: BLE001
        emit(type='fatal', error=err(e), trace=traceback.format_exc())
        return 1


if __name__ == '__main__':
    sys.exit(main())
