"""Models: shared sub-network builders and the trainable ``keras.Model`` subclasses."""

from adda_keras.models.gan import GAN, latent_starts, make_latent_search
from adda_keras.models.networks import (
    ATTENTION_LAYER,
    HEAD_LAYER,
    build_decoder,
    build_discriminator,
    build_encoder,
    check_network_shape,
    extra_stages,
)
from adda_keras.models.vae import VAE
from adda_keras.models.vaegan import VAEGAN

__all__ = [
    "ATTENTION_LAYER",
    "GAN",
    "HEAD_LAYER",
    "VAE",
    "VAEGAN",
    "build_decoder",
    "build_discriminator",
    "build_encoder",
    "check_network_shape",
    "extra_stages",
    "latent_starts",
    "make_latent_search",
]
