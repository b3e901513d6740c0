from _timing import bench_main


def loop_with_branch(n):
    i = 0
    while True:
        i += 1
        if i > 0:
            pass
        if not i < n:
            return i


bench_main("loop_with_branch", 100000, loop_with_branch)
