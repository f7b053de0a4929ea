#!/usr/bin/env python3
"""Capture driver for confluent-kafka (Debian python3-confluent-kafka on librdkafka, run with
/usr/bin/python3): admin, an idempotent producer with and without zstd, and a consumer group that
reads, commits and leaves. Run through scripts/capture-frames.ts (see
test/fixtures/frames/README.md), which sets GODEL_CAPTURE_BOOTSTRAP.
"""
import os
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

bootstrap = os.environ['GODEL_CAPTURE_BOOTSTRAP']
topic = 'capture-confluent-kafka'
group = 'capture-confluent-kafka-group'
base = {'bootstrap.servers': bootstrap, 'client.id': 'capture-confluent-kafka'}


def wait(futures):
    for f in futures.values():
        f.result(timeout=30)


admin = AdminClient(base)
wait(admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)]))
wait(admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)]))
wait(admin.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={'retention.ms': '86400000'})]))
wait(admin.create_partitions([NewPartitions(topic, 3)]))

# zstd, not gzip: librdkafka before 2.11.1 compresses with gzip, snappy or lz4 only if the broker
# speaks Produce v0 (see scripts/capture/kcat.sh).
for compression in ('none', 'zstd'):
    producer = Producer({**base, 'enable.idempotence': True, 'compression.codec': compression})
    value = b'v' if compression == 'none' else b'zstd' * 40  # librdkafka sends what would not shrink as it is
    producer.produce(topic, key=b'k', value=value, headers=[('h', b'1')], partition=0 if compression == 'none' else 1)
    if producer.flush(30) != 0:
        raise SystemExit('the producer did not deliver')

consumer = Consumer({**base, 'group.id': group, 'auto.offset.reset': 'earliest', 'enable.auto.commit': False,
                     'session.timeout.ms': 10000, 'heartbeat.interval.ms': 300, 'fetch.wait.max.ms': 100})
consumer.subscribe([topic])
got = 0
deadline = time.time() + 30
while got < 2 and time.time() < deadline:
    m = consumer.poll(0.2)
    if m is not None and m.error() is None:
        got += 1
if got < 2:
    raise SystemExit('the consumer read %d of 2 records' % got)
consumer.commit(asynchronous=False)
end = time.time() + 1.5  # heartbeats
while time.time() < end:
    consumer.poll(0.1)
consumer.close()  # LeaveGroup

admin.list_groups(timeout=10)
wait(admin.delete_topics([topic]))
