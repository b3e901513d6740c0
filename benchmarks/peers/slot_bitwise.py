from _timing import bench_main


def slot_bitwise(times):
    x = 0xDEADBEEF
    for _ in range(times):
        x = ((x & 0xFF) << 3) ^ 0x1234
    return x


bench_main("slot_bitwise", 200, slot_bitwise)
