"""The port test's task script: transform one location and year, aggregate a year, summarize."""

import argparse
import glob
import os

parser = argparse.ArgumentParser()
parser.add_argument("step", choices=["transform", "aggregate", "summarize"])
parser.add_argument("--location_id", type=int)
parser.add_argument("--year", type=int)
parser.add_argument("--output_dir", required=True)
args = parser.parse_args()
os.makedirs(args.output_dir, exist_ok=True)
if args.step == "transform":
    with open(os.path.join(args.output_dir, f"transform_{args.location_id}_{args.year}.txt"), "w") as f:
        f.write(f"{args.location_id * args.year % 97}\n")
elif args.step == "aggregate":
    parts = sorted(glob.glob(os.path.join(args.output_dir, f"transform_*_{args.year}.txt")))
    total = sum(int(open(p).read()) for p in parts)
    with open(os.path.join(args.output_dir, f"aggregate_{args.year}.txt"), "w") as f:
        f.write(f"{len(parts)} {total}\n")
else:
    lines = [open(p).read().strip() for p in sorted(glob.glob(os.path.join(args.output_dir, "aggregate_*.txt")))]
    with open(os.path.join(args.output_dir, "summary.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
