def softmax(z)
    return z
