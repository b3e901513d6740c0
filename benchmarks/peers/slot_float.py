from _timing import bench_main


def slot_float(times):
    x = 1.0
    for _ in range(times):
        x = (x + 0.1) * 1.001
    return x


bench_main("slot_float", 200, slot_float)
