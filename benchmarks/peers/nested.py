from _timing import bench_main, wrap64


def nested(n):
    total, i = 0, 0
    while True:
        j = 0
        while True:
            total = wrap64(total + ((i * j) ^ (i + j)))
            j += 1
            if not j < n:
                break
        i += 1
        if not i < n:
            return total


bench_main("nested", 316, nested)
