from _timing import bench_main, wrap64


def xor_mix(n):
    total, i = 0, 0
    while True:
        total = wrap64(total + ((i * 3) ^ (i >> 1)))
        i += 1
        if not i < n:
            return total


bench_main("xor_mix", 100000, xor_mix)
