from _timing import bench_main, wrap64


def slot_mixed(times):
    x = 42
    for _ in range(times):
        x = wrap64(x * 3 + 7 - 2)
    return x


bench_main("slot_mixed", 100, slot_mixed)
