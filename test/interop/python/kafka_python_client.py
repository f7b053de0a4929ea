#!/usr/bin/env python3
"""Drives kafka-python (Debian python3-kafka) for test/interop/python.test.ts.

    kafka_python_client.py BOOTSTRAP produce TOPIC COUNT --partitions P --acks 1|all [--compression gzip] [--tag T]
    kafka_python_client.py BOOTSTRAP consume-assign TOPIC --partitions P --expect N [--seek P:OFFSET]
    kafka_python_client.py BOOTSTRAP consume-group TOPIC GROUP --expect N
    kafka_python_client.py BOOTSTRAP admin TOPIC

and for test/interop/groups.test.ts, long-running processes driven through stdin:

    kafka_python_client.py BOOTSTRAP produce-stream TOPIC --partitions P --interval-ms MS [--tag T]
        one record every MS ms until a line "stop" (or the end of stdin), then flush and exit
    kafka_python_client.py BOOTSTRAP group-member TOPIC GROUP --client-id ID [--session-timeout-ms MS]
            [--heartbeat-ms MS] [--assignors range,roundrobin]
        a group member that commits (synchronously) after every poll and in on_partitions_revoked,
        until a line "leave" (or the end of stdin): commit, close() (LeaveGroup), exit
    kafka_python_client.py BOOTSTRAP group-admin GROUP --phase live|empty
        KafkaAdminClient on a group: ListGroups, DescribeGroups, OffsetFetch, DeleteGroups

Prints one JSON object per line on stdout. Records produced are key k-<i>, value <tag>-<i>,
headers i=<i> and src=kafka-python, record i to partition i % P.
"""
import argparse
import json
import sys
import threading
import time
import traceback

import kafka
from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from kafka.structs import OffsetAndMetadata

DEADLINE_S = 90


_emit_lock = threading.Lock()


def emit(**fields):
    # Callbacks of the producer's I/O thread emit too: one whole line at a time.
    line = json.dumps(fields) + '\n'
    with _emit_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


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
    p = KafkaProducer(bootstrap_servers=a.bootstrap, acks='all', client_id='godel-interop-kafka-python-stream',
                      linger_ms=0, retries=5, max_in_flight_requests_per_connection=1)
    stop = stdin_says('stop')
    errors = [0]

    def sent(i):
        def ok(md):
            emit(type='sent', i=i, partition=md.partition, offset=md.offset)

        def failed(e):
            errors[0] += 1
            emit(type='error', i=i, error=err(e))
        return ok, failed

    i = 0
    while not stop.is_set():
        f = p.send(a.topic, key=('k-%d' % i).encode(), value=('%s-%d' % (a.tag, i)).encode(),
                   headers=[('i', str(i).encode()), ('src', b'kafka-python')], partition=i % a.partitions)
        ok, failed = sent(i)
        f.add_callback(ok)
        f.add_errback(failed)
        i += 1
        stop.wait(a.interval_ms / 1000.0)
    p.flush(timeout=DEADLINE_S)
    p.close(timeout=10)
    emit(type='done', sent=i - errors[0], errors=errors[0])
    return 0 if errors[0] == 0 else 1


ASSIGNORS = {'range': RangePartitionAssignor, 'roundrobin': RoundRobinPartitionAssignor}


def group_member(a):
    leave = stdin_says('leave')
    processed = {}  # TopicPartition -> next offset, processed and not yet committed
    consumer = []

    def commit(why):
        if not processed:
            return
        offsets = {tp: OffsetAndMetadata(o, '') for tp, o in processed.items()}
        listed = sorted([tp.partition, o] for tp, o in processed.items())
        processed.clear()
        try:
            consumer[0].commit(offsets)
            emit(type='committed', why=why, offsets=listed)
        except Exception as e:  # noqa: BLE001
            emit(type='commit-failed', why=why, offsets=listed, error=err(e))

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            commit('revoked')
            emit(type='revoked', partitions=sorted(tp.partition for tp in revoked))

        def on_partitions_assigned(self, assigned):
            try:
                generation = consumer[0]._coordinator._generation.generation_id
            except Exception:  # noqa: BLE001
                generation = None
            emit(type='assigned', partitions=sorted(tp.partition for tp in assigned), generation=generation)

    c = KafkaConsumer(bootstrap_servers=a.bootstrap, group_id=a.group, client_id=a.client_id,
                      enable_auto_commit=False, auto_offset_reset='earliest',
                      session_timeout_ms=a.session_timeout_ms, heartbeat_interval_ms=a.heartbeat_ms,
                      partition_assignment_strategy=[ASSIGNORS[n] for n in a.assignors.split(',')],
                      fetch_max_wait_ms=200)
    consumer.append(c)
    c.subscribe([a.topic], listener=Listener())
    emit(type='started')
    while not leave.is_set():
        for tp, records in c.poll(timeout_ms=200).items():
            for r in records:
                emit_record(r)
                processed[tp] = r.offset + 1
        commit('poll')
    commit('leave')
    c.close()
    emit(type='left')
    return 0


def group_admin(a):
    ad = KafkaAdminClient(bootstrap_servers=a.bootstrap, client_id='godel-interop-kafka-python-admin',
                          request_timeout_ms=30000)
    group = a.group

    def list_groups():
        return sorted([list(g) for g in ad.list_consumer_groups()])

    def describe():
        out = []
        for g in ad.describe_consumer_groups([group]):
            members = []
            for m in g.members:
                assignment = getattr(m.member_assignment, 'assignment', None) or []
                subscription = getattr(m.member_metadata, 'subscription', None) or []
                members.append({'member_id': m.member_id, 'client_id': m.client_id, 'client_host': m.client_host,
                                'subscription': list(subscription),
                                'assignment': sorted([t, sorted(ps)] for t, ps in assignment)})
            out.append({'error_code': g.error_code, 'group': g.group, 'state': g.state,
                        'protocol_type': g.protocol_type, 'protocol': g.protocol,
                        'members': sorted(members, key=lambda m: m['client_id'])})
        return out

    def offsets():
        return sorted([tp.topic, tp.partition, om.offset] for tp, om in ad.list_consumer_group_offsets(group).items())

    def delete():
        return [[g, e.__name__] for g, e in ad.delete_consumer_groups([group])]

    step('list_groups', list_groups)
    step('describe_groups', describe)
    step('list_offsets', offsets)
    step('delete_groups', delete)
    if a.phase == 'empty':
        step('list_groups_after_delete', list_groups)
        step('list_offsets_after_delete', offsets)
        step('delete_groups_again', delete)
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
    ga = sub.add_parser('group-admin')
    ga.add_argument('group')
    ga.add_argument('--phase', choices=['live', 'empty'], required=True)
    a = ap.parse_args()
    emit(type='version', client='kafka-python', version=kafka.__version__)
    fn = {'produce': produce, 'consume-assign': consume_assign, 'consume-group': consume_group, 'admin': admin,
          'produce-stream': produce_stream, 'group-member': group_member, 'group-admin': group_admin}[a.cmd]
    try:
        return fn(a)
    except Exception as e:  # noqa: BLE001
        emit(type='fatal', error=err(e), trace=traceback.format_exc())
        return 1


if __name__ == '__main__':
    sys.exit(main())
