from _timing import bench_main


def collatz(k):
    total, start = 0, 1
    while True:
        n = start
        while n != 1:
            n = 3 * n + 1 if n & 1 else n >> 1
            total += 1
        start += 1
        if not start < k + 1:
            return total


bench_main("collatz", 1500, collatz)
