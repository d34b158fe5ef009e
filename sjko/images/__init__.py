"""Image experiments: networks (NCSN++-style map, DCGAN/ResNet pair, DDGAN-style potentials),
data sets (CIFAR-10, image folders, scikit-learn digits) and FID through pytorch-fid."""
