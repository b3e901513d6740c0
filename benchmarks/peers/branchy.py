from _timing import bench_main


def branchy(n):
    x, acc, i = 12345, 0, 0
    while True:
        x = (x * 75 + 74) % 65537
        if x & 1:
            acc += x
        else:
            acc -= i
        i += 1
        if not i < n:
            return acc


bench_main("branchy", 100000, branchy)
