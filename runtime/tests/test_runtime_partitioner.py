from aiokafka.partitioner import DefaultPartitioner

from chorale_runtime.kafka import KeyHashCache


def test_keys_land_on_the_partitions_the_java_compatible_partitioner_picks():
    cached = KeyHashCache(size=50)
    for partitions in ([0, 1, 2], list(range(7))):
        for round_ in range(2):  # the second round is answered from the cache
            for i in range(120):  # past the size: the cache is forgotten and refilled
                key = f"FLX20261127-{i:04d}".encode()
                expected = DefaultPartitioner()(key, partitions, partitions)
                assert cached(key, partitions, partitions) == expected, (round_, key)


def test_messages_without_a_key_go_to_an_available_partition():
    assert KeyHashCache()(None, [0, 1, 2], [2]) == 2
